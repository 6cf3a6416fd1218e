package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"

	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/resource"
	kubelib "istio.io/istio/pkg/kube"
)

const (
	clusterAnnotation = "smh.solo.io/cluster"
	managedByLabel    = "app.kubernetes.io/managed-by"
	managedByUs       = "kubectl-smh"
)

type object = map[string]any

// readObjects reads a YAML or JSON stream of objects; a List (kind ending in "List" with items) is expanded.
func readObjects(path string) ([]object, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	dec := kubeyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 64*1024)
	var out []object
	for {
		var o object
		if err := dec.Decode(&o); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if len(o) == 0 {
			continue
		}
		out = append(out, expandList(o)...)
	}
	return out, nil
}

func expandList(o object) []object {
	kind, _ := o["kind"].(string)
	items, ok := o["items"].([]any)
	if !ok || !strings.HasSuffix(kind, "List") {
		return []object{o}
	}
	var out []object
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, expandList(m)...)
		}
	}
	return out
}

func str(o object, path ...string) string {
	var cur any = o
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}

func strMap(o object, path ...string) map[string]string {
	var cur any = o
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func gvkOf(o object) k8sschema.GroupVersionKind {
	return k8sschema.FromAPIVersionAndKind(str(o, "apiVersion"), str(o, "kind"))
}

func objName(o object) string {
	ns := str(o, "metadata", "namespace")
	if ns == "" {
		return fmt.Sprintf("%s/%s", str(o, "kind"), str(o, "metadata", "name"))
	}
	return fmt.Sprintf("%s/%s/%s", str(o, "kind"), ns, str(o, "metadata", "name"))
}

// istioSchema finds the Istio (or Gateway API) schema that istiod would read this object with.
func istioSchema(o object) (resource.Schema, bool) {
	gvk := gvkOf(o)
	return collections.PilotGatewayAPI().FindByGroupVersionAliasesKind(resource.FromKubernetesGVK(&gvk))
}

func isIstioGroup(o object) bool {
	g := gvkOf(o).Group
	return strings.HasSuffix(g, ".istio.io") || g == "gateway.networking.k8s.io"
}

// strictFromJSON converts like istiod does, but refuses unknown fields: istiod drops them silently, so a field we
// misspell would otherwise vanish without a trace (the API server with fieldValidation=Strict refuses them too).
func strictFromJSON(s resource.Schema, js string) (config.Spec, error) {
	c, err := s.NewInstance()
	if err != nil {
		return nil, err
	}
	if err := config.ApplyJSONStrict(c, js); err != nil {
		return nil, err
	}
	return c, nil
}

// toConfig converts one Istio object into istiod's internal form and validates it with Istio's own validation.
// It returns the config (nil when Istio would not accept it), the validation warnings, and the errors. Warnings
// about unknown fields (in EnvoyFilter values, which Istio only warns about and then drops at push time) count as
// errors: Istio would silently ignore that part.
func toConfig(o object, t0 time.Time) (*config.Config, []string, []string) {
	s, ok := istioSchema(o)
	if !ok {
		return nil, nil, []string{fmt.Sprintf("%s: istiod does not know %s", objName(o), gvkOf(o).String())}
	}
	js, err := json.Marshal(o)
	if err != nil {
		return nil, nil, []string{fmt.Sprintf("%s: %v", objName(o), err)}
	}
	var ik crd.IstioKind
	if err := json.Unmarshal(js, &ik); err != nil {
		return nil, nil, []string{fmt.Sprintf("%s: %v", objName(o), err)}
	}
	cfg, err := crd.ConvertObjectInternal(s, &ik, "", strictFromJSON)
	if err != nil {
		return nil, nil, []string{fmt.Sprintf("%s: cannot parse spec: %v", objName(o), err)}
	}
	if cfg.Namespace == "" && !s.IsClusterScoped() {
		cfg.Namespace = "default"
	}
	if cfg.CreationTimestamp.IsZero() {
		cfg.CreationTimestamp = t0
	}
	warn, verr := s.ValidateConfig(*cfg)
	var warnings, errs []string
	if warn != nil {
		for _, w := range splitMulti(warn) {
			if strings.Contains(w, "unknown field") {
				errs = append(errs, fmt.Sprintf("%s: %s", objName(o), w))
			} else {
				warnings = append(warnings, fmt.Sprintf("%s: %s", objName(o), w))
			}
		}
	}
	for _, e := range splitMulti(verr) {
		errs = append(errs, fmt.Sprintf("%s: %s", objName(o), e))
	}
	if len(errs) > 0 {
		return nil, warnings, errs
	}
	return cfg, warnings, nil
}

// splitMulti turns a (multi)error into one line per error.
func splitMulti(err error) []string {
	if err == nil {
		return nil
	}
	if m, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range m.Unwrap() {
			out = append(out, splitMulti(e)...)
		}
		return out
	}
	if m, ok := err.(interface{ WrappedErrors() []error }); ok {
		var out []string
		for _, e := range m.WrappedErrors() {
			out = append(out, splitMulti(e)...)
		}
		return out
	}
	return []string{strings.TrimSpace(err.Error())}
}

// kubeKinds are the Kubernetes objects of a snapshot that istiod's service registry reads.
var kubeKinds = map[string]bool{"Service": true, "Pod": true, "EndpointSlice": true, "Namespace": true, "Node": true}

func toRuntimeObject(o object) (runtime.Object, error) {
	js, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	obj, _, err := kubelib.IstioCodec.UniversalDeserializer().Decode(js, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", objName(o), err)
	}
	return obj, nil
}

func podReady(p *corev1.Pod) bool {
	if p.Status.PodIP == "" || p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// assumeReady completes a snapshot pod that is Running with an IP and whose containers are all ready but that
// carries no Ready condition (hand-made snapshots often omit conditions): istiod only reads the condition.
func assumeReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" || len(p.Status.ContainerStatuses) == 0 {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return false
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if !cs.Ready {
			return false
		}
	}
	if len(p.Status.PodIPs) == 0 {
		p.Status.PodIPs = []corev1.PodIP{{IP: p.Status.PodIP}}
	}
	p.Status.Conditions = append(p.Status.Conditions,
		corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue},
		corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionTrue})
	return true
}

func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// resolveTargetPort finds the container port a Service port targets on one pod (named ports are per pod).
func resolveTargetPort(sp corev1.ServicePort, p *corev1.Pod) (int32, bool) {
	switch {
	case sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal != 0:
		return sp.TargetPort.IntVal, true
	case sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal != "":
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == sp.TargetPort.StrVal {
					return cp.ContainerPort, true
				}
			}
		}
		return 0, false
	default:
		return sp.Port, true
	}
}

// deriveEndpointSlices builds, for each Service with a selector and no EndpointSlice in the snapshot, the slices
// the EndpointSlice controller would write: one per Ready pod (ready endpoints only, ports resolved per pod).
func deriveEndpointSlices(services []*corev1.Service, pods []*corev1.Pod, existing []*discoveryv1.EndpointSlice) []runtime.Object {
	has := map[string]bool{}
	for _, es := range existing {
		has[es.Namespace+"/"+es.Labels[discoveryv1.LabelServiceName]] = true
	}
	var out []runtime.Object
	for _, svc := range services {
		if has[svc.Namespace+"/"+svc.Name] || len(svc.Spec.Selector) == 0 {
			continue
		}
		var selected []*corev1.Pod
		for _, p := range pods {
			if p.Namespace == svc.Namespace && selects(svc.Spec.Selector, p.Labels) && podReady(p) {
				selected = append(selected, p)
			}
		}
		sort.Slice(selected, func(i, j int) bool { return selected[i].Name < selected[j].Name })
		for _, p := range selected {
			var ports []discoveryv1.EndpointPort
			for _, sp := range svc.Spec.Ports {
				port, ok := resolveTargetPort(sp, p)
				if !ok {
					continue
				}
				name, proto := sp.Name, sp.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				ports = append(ports, discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: &proto, AppProtocol: sp.AppProtocol})
			}
			ready := true
			nodeName := p.Spec.NodeName
			ep := discoveryv1.Endpoint{
				Addresses:  []string{p.Status.PodIP},
				Conditions: discoveryv1.EndpointConditions{Ready: &ready},
				TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID},
			}
			if nodeName != "" {
				ep.NodeName = &nodeName
			}
			out = append(out, &discoveryv1.EndpointSlice{
				TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
				ObjectMeta: metav1.ObjectMeta{
					Name:      fmt.Sprintf("%s-oracle-%s", svc.Name, p.Name),
					Namespace: svc.Namespace,
					Labels:    map[string]string{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: "kubectl-smh-oracle"},
				},
				AddressType: discoveryv1.AddressTypeIPv4,
				Endpoints:   []discoveryv1.Endpoint{ep},
				Ports:       ports,
			})
		}
	}
	return out
}

package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	aggregatev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/aggregate/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	istiocluster "istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/mesh"
	_ "istio.io/istio/pkg/config/xds" // registers every Envoy filter type istiod may emit, for protojson
	"istio.io/istio/pkg/test"
)

type inputs struct {
	kube         []runtime.Object
	configs      []config.Config
	mesh         *meshconfig.MeshConfig
	pod          *corev1.Pod
	node         *corev1.Node
	services     []*corev1.Service
	errors       []string
	warnings     []string
	accepted     []string
	ignored      []string
	derived      int
	assumedReady int
	// what Istio's analyzers look at: the snapshot's objects and the config, raw; and which objects we generated
	analysisDocs []object
	generated    map[string]bool
	fromSnap     []string
}

func loadInputs(o options) (*inputs, error) {
	in := &inputs{}
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var pods []*corev1.Pod
	var slices []*discoveryv1.EndpointSlice
	nodes := map[string]*corev1.Node{}
	type cfgEntry struct {
		cfg  *config.Config
		name string
		raw  object
	}
	in.generated = map[string]bool{}
	cfgs := map[string]cfgEntry{}
	var order []string
	addCfg := func(key string, e cfgEntry) {
		if _, ok := cfgs[key]; !ok {
			order = append(order, key)
		}
		cfgs[key] = e
	}
	for _, path := range o.snapshots {
		objs, err := readObjects(path)
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			gvk := gvkOf(obj)
			if !isIstioGroup(obj) {
				in.analysisDocs = append(in.analysisDocs, obj)
			}
			switch {
			case kubeKinds[gvk.Kind] && (gvk.Group == "" || gvk.Group == "discovery.k8s.io"):
				ro, err := toRuntimeObject(obj)
				if err != nil {
					return nil, err
				}
				switch t := ro.(type) {
				case *corev1.Pod:
					if assumeReady(t) {
						in.assumedReady++
					}
					pods = append(pods, t)
				case *corev1.Service:
					in.services = append(in.services, t)
				case *discoveryv1.EndpointSlice:
					slices = append(slices, t)
				case *corev1.Node:
					nodes[t.Name] = t
				}
				in.kube = append(in.kube, ro)
			case gvk.Kind == "ConfigMap" && gvk.Group == "" && str(obj, "metadata", "name") == "istio" &&
				str(obj, "metadata", "namespace") == "istio-system":
				if m := str(obj, "data", "mesh"); m != "" {
					mc, err := mesh.ApplyMeshConfigDefaults(m)
					if err != nil {
						in.errors = append(in.errors, fmt.Sprintf("%s: mesh config: %v", objName(obj), err))
					} else {
						in.mesh = mc
					}
				}
			case isIstioGroup(obj):
				// Istio objects already in the cluster stay, except ours: the generated set replaces those.
				if strMap(obj, "metadata", "labels")[managedByLabel] == managedByUs {
					continue
				}
				cfg, warns, errs := toConfig(obj, t0)
				for _, w := range warns {
					in.warnings = append(in.warnings, "snapshot "+w)
				}
				if cfg == nil {
					in.warnings = append(in.warnings, fmt.Sprintf("snapshot object ignored, as istiod would: %s", strings.Join(errs, "; ")))
					continue
				}
				addCfg(objName(obj), cfgEntry{cfg, "snapshot " + objName(obj), obj})
			}
		}
	}
	for _, path := range o.configs {
		objs, err := readObjects(path)
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			if c := strMap(obj, "metadata", "annotations")[clusterAnnotation]; c != "" && c != o.cluster {
				continue
			}
			if !isIstioGroup(obj) {
				in.ignored = append(in.ignored, objName(obj))
				continue
			}
			cfg, warns, errs := toConfig(obj, t0)
			in.warnings = append(in.warnings, warns...)
			if len(errs) > 0 {
				in.errors = append(in.errors, errs...)
				continue
			}
			addCfg(objName(obj), cfgEntry{cfg, objName(obj), obj})
			in.generated[objName(obj)] = true
		}
	}
	for _, k := range order {
		in.configs = append(in.configs, *cfgs[k].cfg)
		in.accepted = append(in.accepted, cfgs[k].name)
		in.analysisDocs = append(in.analysisDocs, cfgs[k].raw)
	}
	derived := deriveEndpointSlices(in.services, pods, slices)
	in.derived = len(derived)
	in.kube = append(in.kube, derived...)

	ns, name, _ := strings.Cut(o.proxy, "/")
	for _, p := range pods {
		if p.Namespace == ns && p.Name == name {
			in.pod = p
		}
	}
	if in.pod == nil {
		var names []string
		for _, p := range pods {
			names = append(names, p.Namespace+"/"+p.Name)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("no pod %s in the snapshot (pods: %s)", o.proxy, strings.Join(names, ", "))
	}
	for _, p := range pods {
		if !podReady(p) {
			in.warnings = append(in.warnings, fmt.Sprintf("pod %s/%s is not Running and Ready with an IP: istiod ignores it", p.Namespace, p.Name))
		}
	}
	in.node = nodes[in.pod.Spec.NodeName]
	return in, nil
}

type proxyInfo struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	IP           string            `json:"ip"`
	Namespace    string            `json:"namespace"`
	Cluster      string            `json:"cluster"`
	IstioVersion string            `json:"istioVersion"`
	Labels       map[string]string `json:"labels"`
	Locality     string            `json:"locality,omitempty"`
}

type inputsInfo struct {
	Configs               []string `json:"configs"`
	Ignored               []string `json:"ignored,omitempty"`
	DerivedEndpointSlices int      `json:"derivedEndpointSlices"`
	PodsAssumedReady      int      `json:"podsAssumedReady,omitempty"`
	KubernetesObjects     int      `json:"kubernetesObjects"`
}

type result struct {
	Cluster     string            `json:"cluster"`
	Proxy       proxyInfo         `json:"proxy"`
	Clusters    []json.RawMessage `json:"clusters"`
	Listeners   []json.RawMessage `json:"listeners"`
	Routes      []json.RawMessage `json:"routes"`
	Endpoints   []json.RawMessage `json:"endpoints"`
	Simulations []simResult       `json:"simulations,omitempty"`
	PushStatus  json.RawMessage   `json:"pushStatus,omitempty"`
	Inputs      inputsInfo        `json:"inputs"`
	IstioLog    []logEntry        `json:"istioLog,omitempty"`
	Warnings    []string          `json:"warnings"`
	Errors      []string          `json:"errors"`
}

func isRouter(o options, pod *corev1.Pod) bool {
	switch o.proxyType {
	case "router", "gateway":
		return true
	case "sidecar":
		return false
	}
	if v := pod.Labels["istio"]; strings.Contains(v, "gateway") {
		return true
	}
	return pod.Labels["gateway.istio.io/managed"] != "" || pod.Labels["gateway.networking.k8s.io/gateway-name"] != ""
}

// conflictMetrics are the push-status entries that mean Istio dropped or overrode part of the configuration.
var conflictMetrics = []string{
	model.DuplicatedClusters.Name(),
	model.DuplicatedDomains.Name(),
	model.DuplicatedSubsets.Name(),
	model.ProxyStatusConflictOutboundListenerTCPOverTCP.Name(),
	model.ProxyStatusConflictInboundListener.Name(),
	model.DNSNoEndpointClusters.Name(),
}

func marshalAll[T proto.Message](msgs []T) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(msgs))
	for _, m := range msgs {
		b, err := protojson.Marshal(m)
		if err != nil {
			return nil, err
		}
		out = append(out, json.RawMessage(b))
	}
	return out, nil
}

func run(o options, in *inputs, capture *logCapture) (*result, error) {
	res := &result{Cluster: o.cluster, Warnings: append([]string{}, in.warnings...), Errors: append([]string{}, in.errors...)}
	res.Inputs = inputsInfo{Configs: in.accepted, Ignored: in.ignored, DerivedEndpointSlices: in.derived, PodsAssumedReady: in.assumedReady, KubernetesObjects: len(in.kube)}
	if res.Inputs.Configs == nil {
		res.Inputs.Configs = []string{}
	}
	m := in.mesh
	switch {
	case o.trustDomain != "":
		if m == nil {
			m = mesh.DefaultMeshConfig()
		}
		m.TrustDomain = o.trustDomain
	case m == nil:
		m = mesh.DefaultMeshConfig()
		m.TrustDomain = o.cluster
	}
	if !o.noAnalyze {
		errs, warns, err := analyze(in.analysisDocs, in.generated)
		if err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("istioctl analyze could not run: %v", err))
		}
		res.Errors = append(res.Errors, errs...)
		res.Warnings = append(res.Warnings, warns...)
	}
	var runErr error
	ferr := test.Wrap(func(t test.Failer) {
		s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
			DefaultClusterName: istiocluster.ID(o.cluster),
			KubernetesObjects:  in.kube,
			Configs:            in.configs,
			MeshConfig:         m,
		})
		pod := in.pod
		p := &model.Proxy{
			Type:            model.SidecarProxy,
			IPAddresses:     []string{pod.Status.PodIP},
			ID:              pod.Name + "." + pod.Namespace,
			ConfigNamespace: pod.Namespace,
			DNSDomain:       pod.Namespace + ".svc.cluster.local",
			Labels:          pod.Labels,
			Metadata: &model.NodeMetadata{
				Labels:       pod.Labels,
				ClusterID:    istiocluster.ID(o.cluster),
				Namespace:    pod.Namespace,
				IstioVersion: o.istioVersion,
				WorkloadName: workloadName(pod),
				InstanceIPs:  []string{pod.Status.PodIP},
			},
		}
		if isRouter(o, pod) {
			p.Type = model.Router
		}
		if in.node != nil {
			if region, zone := in.node.Labels["topology.kubernetes.io/region"], in.node.Labels["topology.kubernetes.io/zone"]; region != "" {
				p.Locality = &corev3.Locality{Region: region, Zone: zone, SubZone: in.node.Labels["topology.istio.io/subzone"]}
			}
		}
		if len(p.IPAddresses) == 0 || p.IPAddresses[0] == "" {
			res.Warnings = append(res.Warnings, fmt.Sprintf("pod %s has no status.podIP: the proxy gets 10.255.255.254", o.proxy))
			p.IPAddresses = []string{"10.255.255.254"}
			p.Metadata.InstanceIPs = p.IPAddresses
		}
		p = s.SetupProxy(p)
		res.Proxy = proxyInfo{
			ID: p.ID, Type: string(p.Type), IP: p.IPAddresses[0], Namespace: p.ConfigNamespace, Cluster: o.cluster,
			IstioVersion: p.Metadata.IstioVersion, Labels: p.Labels,
		}
		if p.Locality != nil {
			res.Proxy.Locality = p.Locality.Region + "/" + p.Locality.Zone + "/" + p.Locality.SubZone
		}

		listeners := s.Listeners(p)
		clusters := s.Clusters(p)
		routes := s.RoutesFromListeners(p, listeners)
		var err error
		if res.Listeners, err = marshalAll(listeners); err != nil {
			runErr = err
			return
		}
		if res.Clusters, err = marshalAll(clusters); err != nil {
			runErr = err
			return
		}
		if res.Routes, err = marshalAll(routes); err != nil {
			runErr = err
			return
		}
		res.Endpoints = []json.RawMessage{}
		if !o.noEndpoints {
			if res.Endpoints, err = marshalAll(s.Endpoints(p)); err != nil {
				runErr = err
				return
			}
		}
		res.Errors = append(res.Errors, consistency(clusters, listeners, routes)...)

		for _, call := range o.simulate {
			res.Simulations = append(res.Simulations, simulate(s, p, listeners, clusters, routes, call))
		}

		pc := s.PushContext()
		if js, err := pc.StatusJSON(); err == nil {
			res.PushStatus = js
		}
		for _, metric := range conflictMetrics {
			entries := pc.GetMetric(metric)
			keys := make([]string, 0, len(entries))
			for k := range entries {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				res.Errors = append(res.Errors, fmt.Sprintf("istiod push status %s: %s: %s", metric, k, entries[k].Message))
			}
		}
	})
	if ferr != nil {
		return nil, fmt.Errorf("istiod's discovery server failed: %v", ferr)
	}
	if runErr != nil {
		return nil, runErr
	}
	for _, e := range capture.snapshot() {
		if ignorableLog(e) {
			continue
		}
		res.IstioLog = append(res.IstioLog, e)
		if e.Level == "error" {
			res.Errors = append(res.Errors, fmt.Sprintf("istiod logged an error [%s]: %s", e.Scope, e.Message))
		}
	}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	if res.Errors == nil {
		res.Errors = []string{}
	}
	return res, nil
}

// ignorableLog filters what the fake environment itself causes (no real apiserver, no CA), not our config.
func ignorableLog(e logEntry) bool {
	switch {
	case strings.HasPrefix(e.Message, "CRD ") && strings.Contains(e.Message, "annotation, but none found; ignoring"):
		return true // the fake client's Gateway API CRDs carry no bundle-version annotation
	case strings.HasPrefix(e.Message, "sync failed"):
		return true // krt collections and informers retrying their first sync on the fake client (a loaded machine)
	case strings.Contains(e.Message, `gatewayclasses.gateway.networking.k8s.io "istio`) && strings.Contains(e.Message, "already exists"):
		return true // the default GatewayClass controller racing itself on the fake client
	}
	return false
}

func workloadName(p *corev1.Pod) string {
	if n := p.Labels["app"]; n != "" {
		if v := p.Labels["version"]; v != "" {
			return n + "-" + v
		}
		return n
	}
	return p.Name
}

// consistency reports references Envoy could not resolve: a route or TCP proxy to a cluster istiod did not build,
// and an aggregate cluster child that does not exist (Envoy would answer 503 "no healthy upstream"/NC there).
func consistency(clusters []*clusterv3.Cluster, listeners []*listenerv3.Listener, routes []*routev3.RouteConfiguration) []string {
	names := map[string]bool{}
	for _, c := range clusters {
		names[c.Name] = true
	}
	var errs []string
	seen := map[string]bool{}
	report := func(msg string) {
		if !seen[msg] {
			seen[msg] = true
			errs = append(errs, msg)
		}
	}
	for _, c := range clusters {
		if agg := aggregateChildren(c); agg != nil {
			for _, child := range agg {
				if !names[child] {
					report(fmt.Sprintf("aggregate cluster %q lists child %q, which istiod did not generate", c.Name, child))
				}
			}
		}
	}
	// istiod copies a VirtualService into the route configuration of every HTTP port, so a service on 9080 also gets
	// a virtual host in route "80" whose clusters say port 80: nobody can reach it. A missing cluster only counts
	// when its service has that port (outbound|P||host exists), e.g. a subset no DestinationRule defines.
	servicePort := func(c string) bool {
		parts := strings.Split(c, "|")
		return len(parts) != 4 || names[parts[0]+"|"+parts[1]+"||"+parts[3]]
	}
	for _, rc := range routes {
		for _, vh := range rc.VirtualHosts {
			for _, r := range vh.Routes {
				for _, c := range routeClusters(r) {
					if !names[c] && servicePort(c) {
						report(fmt.Sprintf("route config %q virtual host %q route %q sends to cluster %q, which istiod did not generate",
							rc.Name, vh.Name, r.Name, c))
					}
				}
			}
		}
	}
	for _, l := range listeners {
		for _, fc := range l.FilterChains {
			for _, f := range fc.Filters {
				if f.GetTypedConfig() == nil {
					continue
				}
				tp := &tcpproxyv3.TcpProxy{}
				if f.GetTypedConfig().MessageIs(tp) && f.GetTypedConfig().UnmarshalTo(tp) == nil {
					targets := []string{}
					if c := tp.GetCluster(); c != "" {
						targets = append(targets, c)
					}
					for _, w := range tp.GetWeightedClusters().GetClusters() {
						targets = append(targets, w.Name)
					}
					for _, c := range targets {
						if !names[c] {
							report(fmt.Sprintf("listener %q filter chain %q proxies TCP to cluster %q, which istiod did not generate", l.Name, fc.Name, c))
						}
					}
				}
			}
		}
	}
	return errs
}

func aggregateChildren(c *clusterv3.Cluster) []string {
	ct := c.GetClusterType()
	if ct == nil || ct.GetTypedConfig() == nil {
		return nil
	}
	agg := &aggregatev3.ClusterConfig{}
	if !ct.GetTypedConfig().MessageIs(agg) || ct.GetTypedConfig().UnmarshalTo(agg) != nil {
		return nil
	}
	return agg.Clusters
}

func routeClusters(r *routev3.Route) []string {
	ra := r.GetRoute()
	if ra == nil {
		return nil
	}
	if c := ra.GetCluster(); c != "" {
		return []string{c}
	}
	var out []string
	for _, w := range ra.GetWeightedClusters().GetClusters() {
		out = append(out, w.Name)
	}
	return out
}

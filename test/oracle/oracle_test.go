package main

// Go-side tests of the oracle's own logic (inputs, derived EndpointSlices, reference checks). Run with the flags of
// the cached build so the build cache is shared: CGO_ENABLED=0 go test -trimpath -vet=off ./
// The TypeScript suites (test/integration/oracle) cover the end-to-end behaviour; pluggedca_test.go the plugged-ca subcommand.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestReadObjectsExpandsListsAndStreams(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "in.yaml")
	data := "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: a, namespace: x}}\n" +
		"- {apiVersion: v1, kind: ServiceList, items: [{apiVersion: v1, kind: Service, metadata: {name: b}}]}\n---\n" +
		"apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: c, namespace: yy}\n"
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	objs, err := readObjects(p)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, objName(o))
	}
	if got, want := strings.Join(names, ","), "Service/x/a,Service/b,VirtualService/yy/c"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func pod(name, ip string, labels map[string]string, ready bool, ports ...corev1.ContainerPort) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Ports: ports}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
	}
}

func TestDeriveEndpointSlices(t *testing.T) {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "reviews", Namespace: "default"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "reviews"}, Ports: []corev1.ServicePort{
			{Name: "http", Port: 9080, TargetPort: intstr.FromString("web")},
			{Name: "grpc", Port: 7070, TargetPort: intstr.FromInt32(7071)},
		}},
	}
	pods := []*corev1.Pod{
		pod("r1", "10.0.0.1", map[string]string{"app": "reviews"}, true, corev1.ContainerPort{Name: "web", ContainerPort: 8080}),
		pod("r2", "10.0.0.2", map[string]string{"app": "reviews"}, false, corev1.ContainerPort{Name: "web", ContainerPort: 8080}),
		pod("o1", "10.0.0.3", map[string]string{"app": "other"}, true),
	}
	out := deriveEndpointSlices([]*corev1.Service{svc}, pods, nil)
	if len(out) != 1 {
		t.Fatalf("want one slice (only r1 is ready and selected), got %d", len(out))
	}
	es := out[0].(*discoveryv1.EndpointSlice)
	if es.Labels[discoveryv1.LabelServiceName] != "reviews" || es.Endpoints[0].Addresses[0] != "10.0.0.1" || es.Endpoints[0].TargetRef.Name != "r1" {
		t.Fatalf("unexpected slice %+v", es)
	}
	if *es.Ports[0].Name != "http" || *es.Ports[0].Port != 8080 || *es.Ports[1].Port != 7071 {
		t.Fatalf("target ports not resolved: %+v", es.Ports)
	}
	existing := []*discoveryv1.EndpointSlice{{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: "reviews"}}}}
	if n := len(deriveEndpointSlices([]*corev1.Service{svc}, pods, existing)); n != 0 {
		t.Fatalf("a service with EndpointSlices in the snapshot must keep them, got %d derived", n)
	}
}

func TestAssumeReady(t *testing.T) {
	p := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.9", ContainerStatuses: []corev1.ContainerStatus{{Ready: true}}}}
	if !assumeReady(p) || !podReady(p) {
		t.Fatal("a running pod with ready containers and no conditions should be completed as Ready")
	}
	q := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.9", ContainerStatuses: []corev1.ContainerStatus{{Ready: false}}}}
	if assumeReady(q) || podReady(q) {
		t.Fatal("a pod with an unready container stays unready")
	}
}

func route(name string, clusters ...string) *routev3.Route {
	if len(clusters) == 1 {
		return &routev3.Route{Name: name, Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: clusters[0]}}}}
	}
	var wc []*routev3.WeightedCluster_ClusterWeight
	for _, c := range clusters {
		wc = append(wc, &routev3.WeightedCluster_ClusterWeight{Name: c})
	}
	return &routev3.Route{Name: name, Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: wc}}}}}
}

func TestConsistency(t *testing.T) {
	clusters := []*clusterv3.Cluster{{Name: "outbound|9080||reviews.default.svc.cluster.local"}, {Name: "outbound|9080|v1|reviews.default.svc.cluster.local"}}
	routes := []*routev3.RouteConfiguration{
		{Name: "9080", VirtualHosts: []*routev3.VirtualHost{{Name: "reviews:9080", Routes: []*routev3.Route{
			route("ok", "outbound|9080|v1|reviews.default.svc.cluster.local"),
			route("missing", "outbound|9080|v1|reviews.default.svc.cluster.local", "outbound|9080|v9|reviews.default.svc.cluster.local"),
		}}}},
		// istiod's per-port copy of the same VirtualService: the service has no port 80, nobody reaches it.
		{Name: "80", VirtualHosts: []*routev3.VirtualHost{{Name: "reviews:80", Routes: []*routev3.Route{route("", "outbound|80|v1|reviews.default.svc.cluster.local")}}}},
	}
	errs := consistency(clusters, nil, routes)
	if len(errs) != 1 || !strings.Contains(errs[0], `"outbound|9080|v9|reviews.default.svc.cluster.local", which istiod did not generate`) {
		t.Fatalf("got %q", errs)
	}
}

// Command oracle runs Istio's own xDS generator (istiod's in-process discovery server from pilot/test/xds) on one
// cluster's objects and prints the Envoy configuration that one proxy of that cluster would receive.
//
//	oracle --cluster kind2 --snapshot kind2.yaml --config generated.yaml [--config more.yaml] --proxy default/productpage-v1-xyz
//	       [--simulate http://reviews:9080/] [--simulate 'tls://outbound_.9080_._.reviews.default.svc.cluster.local:15443']
//
// stdout: one JSON object (see README.md). Exit 0 when Istio accepted everything; 1 when it rejected or ignored
// something (the "errors" key and stderr say what, in Istio's words); 2 on bad usage or unreadable input.
//
//	oracle plugged-ca --dir kind2=DIR --dir kind3=DIR [--identity kind2=spiffe://kind2/ns/default/sa/x]
//
// runs Istio's plugged-CA loader on `cacerts` folders instead (pluggedca.go).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	cluster      string
	snapshots    stringList
	configs      stringList
	proxy        string
	proxyType    string
	istioVersion string
	trustDomain  string
	simulate     stringList
	verbose      bool
	noEndpoints  bool
	noAnalyze    bool
}

func usage(fs *flag.FlagSet) {
	fmt.Fprintf(os.Stderr, `usage: oracle --cluster NAME --snapshot FILE --config FILE... --proxy NAMESPACE/POD [--simulate URL...]

Builds istiod's in-process discovery server for one cluster from the snapshot (kubectl get ... -A -o yaml: Services,
Pods, EndpointSlices, Nodes, plus any Istio objects not managed by kubectl-smh) and the generated objects (objects
annotated %s for another cluster are ignored), then prints the clusters, listeners, routes and
endpoints the named proxy would receive, as JSON.

--simulate URL runs Istio's traffic simulation from that proxy:
  http://HOST[:PORT]/PATH        an HTTP request (Host header HOST[:PORT]; port 80 by default)
  tcp://HOST:PORT                a plain TCP connection
  tls://SNI:PORT                 a TLS connection presenting SNI (e.g. through an AUTO_PASSTHROUGH gateway)
  query options: ?mode=outbound|inbound|gateway  &address=IP  &sni=NAME  &header=Name:Value

`, clusterAnnotation)
	fs.PrintDefaults()
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "plugged-ca" {
		os.Exit(pluggedCAMain(os.Args[2:]))
	}
	var o options
	fs := flag.NewFlagSet("oracle", flag.ContinueOnError)
	fs.StringVar(&o.cluster, "cluster", "", "cluster name: Istio cluster ID and trust domain (required)")
	fs.Var(&o.snapshots, "snapshot", "kubectl get -A -o yaml List of the cluster (repeatable)")
	fs.Var(&o.configs, "config", "generated Istio objects, a List or a YAML stream; - for stdin (repeatable)")
	fs.StringVar(&o.proxy, "proxy", "", "NAMESPACE/POD of the proxy to generate for (required)")
	fs.StringVar(&o.proxyType, "proxy-type", "auto", "sidecar, router, or auto (router for pods labelled istio=*gateway)")
	fs.StringVar(&o.istioVersion, "istio-version", "1.30.3", "ISTIO_VERSION the proxy reports (gates version-dependent features)")
	fs.StringVar(&o.trustDomain, "trust-domain", "", "mesh trust domain (default: the snapshot's istio ConfigMap, else the cluster name)")
	fs.Var(&o.simulate, "simulate", "a call to simulate from the proxy (repeatable), see above")
	fs.BoolVar(&o.verbose, "v", false, "print Istio's own log on stderr")
	fs.BoolVar(&o.noEndpoints, "no-endpoints", false, "skip EDS")
	fs.BoolVar(&o.noAnalyze, "no-analyze", false, "skip Istio's analyzers (istioctl analyze)")
	fs.Usage = func() { usage(fs) }
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if o.cluster == "" || o.proxy == "" || !strings.Contains(o.proxy, "/") {
		fmt.Fprintln(os.Stderr, "oracle: --cluster and --proxy NAMESPACE/POD are required")
		usage(fs)
		os.Exit(2)
	}
	capture, err := configureIstioLog(o.verbose)
	if err != nil {
		fmt.Fprintf(os.Stderr, "oracle: configuring Istio's log: %v\n", err)
		os.Exit(2)
	}
	in, err := loadInputs(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "oracle: %v\n", err)
		os.Exit(2)
	}
	res, err := run(o, in, capture)
	if err != nil {
		fmt.Fprintf(os.Stderr, "oracle: %v\n", err)
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		fmt.Fprintf(os.Stderr, "oracle: %v\n", err)
		os.Exit(2)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(os.Stderr, "oracle: warning: %s\n", w)
	}
	for _, e := range res.Errors {
		fmt.Fprintf(os.Stderr, "oracle: error: %s\n", e)
	}
	if len(res.Errors) > 0 {
		os.Exit(1)
	}
}

package main

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config/host"
)

type weightedCluster struct {
	Name   string `json:"name"`
	Weight uint32 `json:"weight"`
}

type simResult struct {
	Call              string            `json:"call"`
	Mode              string            `json:"mode"`
	Address           string            `json:"address"`
	Port              int               `json:"port"`
	Listener          string            `json:"listener,omitempty"`
	FilterChain       string            `json:"filterChain,omitempty"`
	ServerNames       []string          `json:"serverNames,omitempty"`
	RouteConfig       string            `json:"routeConfig,omitempty"`
	VirtualHost       string            `json:"virtualHost,omitempty"`
	Route             string            `json:"route,omitempty"`
	Cluster           string            `json:"cluster,omitempty"`
	WeightedClusters  []weightedCluster `json:"weightedClusters,omitempty"`
	AggregateChildren []string          `json:"aggregateChildren,omitempty"`
	Error             string            `json:"error,omitempty"`
}

// resolveHost finds the address a client would dial for a host name, as the proxy's DNS capture would: the
// Service or ServiceEntry VIP. Short names are qualified with the proxy's namespace like kube-dns does.
func resolveHost(s *xds.FakeDiscoveryServer, p *model.Proxy, h string) string {
	if ip := net.ParseIP(h); ip != nil {
		return h
	}
	candidates := []string{h}
	switch strings.Count(h, ".") {
	case 0:
		candidates = append([]string{h + "." + p.ConfigNamespace + ".svc.cluster.local"}, candidates...)
	case 1:
		candidates = append([]string{h + ".svc.cluster.local"}, candidates...)
	}
	if strings.HasSuffix(h, ".svc") {
		candidates = append([]string{h + ".cluster.local"}, candidates...)
	}
	for _, c := range candidates {
		if svc := s.Env().ServiceDiscovery.GetService(host.Name(c)); svc != nil {
			if a := svc.GetAddressForProxy(p); a != "" && a != "0.0.0.0" {
				return a
			}
		}
	}
	return ""
}

func simulate(s *xds.FakeDiscoveryServer, p *model.Proxy, listeners []*listenerv3.Listener, clusters []*clusterv3.Cluster,
	routes []*routev3.RouteConfiguration, raw string,
) (out simResult) {
	out.Call = raw
	u, err := url.Parse(raw)
	if err != nil {
		out.Error = fmt.Sprintf("bad --simulate %q: %v", raw, err)
		return out
	}
	q := u.Query()
	call := simulation.Call{Headers: http.Header{}}
	hostname := u.Hostname()
	port := 0
	if ps := u.Port(); ps != "" {
		if port, err = strconv.Atoi(ps); err != nil {
			out.Error = fmt.Sprintf("bad port in --simulate %q", raw)
			return out
		}
	}
	switch u.Scheme {
	case "http", "http2":
		call.Protocol = simulation.HTTP
		if u.Scheme == "http2" {
			call.Protocol = simulation.HTTP2
		}
		if port == 0 {
			port = 80
		}
		call.HostHeader = u.Host
		call.Path = u.RequestURI()
	case "tcp":
		call.Protocol = simulation.TCP
	case "tls":
		call.Protocol = simulation.TCP
		call.TLS = simulation.TLS
		call.Sni = hostname
	case "mtls":
		call.Protocol = simulation.TCP
		call.TLS = simulation.MTLS
		call.Sni = hostname
	default:
		out.Error = fmt.Sprintf("--simulate %q: scheme must be http, http2, tcp, tls or mtls", raw)
		return out
	}
	if port == 0 {
		out.Error = fmt.Sprintf("--simulate %q needs a port", raw)
		return out
	}
	call.Port = port
	if sni := q.Get("sni"); sni != "" {
		call.Sni = sni
	}
	if alpn := q.Get("alpn"); alpn != "" {
		call.Alpn = alpn
	}
	for _, h := range q["header"] {
		if k, v, ok := strings.Cut(h, ":"); ok {
			call.Headers.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	mode := q.Get("mode")
	if mode == "" {
		mode = "outbound"
		if p.Type == model.Router {
			mode = "gateway"
		}
	}
	switch mode {
	case "outbound":
		call.CallMode = simulation.CallModeOutbound
	case "inbound":
		call.CallMode = simulation.CallModeInbound
	case "gateway":
		call.CallMode = simulation.CallModeGateway
	default:
		out.Error = fmt.Sprintf("--simulate %q: mode must be outbound, inbound or gateway", raw)
		return out
	}
	call.Address = q.Get("address")
	if call.Address == "" {
		switch {
		case call.CallMode == simulation.CallModeInbound || call.CallMode == simulation.CallModeGateway:
			call.Address = p.IPAddresses[0]
		default:
			call.Address = resolveHost(s, p, hostname)
			if call.Address == "" {
				call.Address = "240.240.240.240" // unresolvable: any address; HTTP listeners match on port alone
			}
		}
	}
	out.Mode, out.Address, out.Port = mode, call.Address, call.Port

	sim := &simulation.Simulation{Listeners: listeners, Clusters: clusters, Routes: routes}
	var r simulation.Result
	func() {
		defer func() {
			if rec := recover(); rec != nil {
				r.Error = fmt.Errorf("simulation failed: %v", rec)
			}
		}()
		r = sim.Run(call)
	}()
	out.Listener, out.FilterChain = r.ListenerMatched, r.FilterChainMatched
	out.RouteConfig, out.VirtualHost, out.Route = r.RouteConfigMatched, r.VirtualHostMatched, r.RouteMatched
	out.Cluster = r.ClusterMatched
	if r.Error != nil {
		out.Error = r.Error.Error()
	}
	// Istio's simulation reports no cluster for weighted routes: read them from the matched route.
	if out.Cluster == "" && out.RouteConfig != "" && out.VirtualHost != "" {
		for _, rc := range routes {
			if rc.Name != out.RouteConfig {
				continue
			}
			for _, vh := range rc.VirtualHosts {
				if vh.Name != out.VirtualHost {
					continue
				}
				for _, rt := range vh.Routes {
					if rt.Name != out.Route || rt.GetRoute() == nil {
						continue
					}
					for _, w := range rt.GetRoute().GetWeightedClusters().GetClusters() {
						out.WeightedClusters = append(out.WeightedClusters, weightedCluster{Name: w.Name, Weight: w.GetWeight().GetValue()})
					}
					if out.WeightedClusters != nil {
						break
					}
				}
			}
		}
	}
	// Gateway chains are unnamed: show the SNI match of the chain whose TCP proxy took the connection.
	if out.Cluster != "" && out.Listener != "" {
		for _, l := range listeners {
			if l.Name != out.Listener {
				continue
			}
			for _, fc := range l.FilterChains {
				if (out.FilterChain != "" && fc.Name == out.FilterChain) || (out.FilterChain == "" && tcpProxyCluster(fc) == out.Cluster) {
					out.ServerNames = fc.GetFilterChainMatch().GetServerNames()
					break
				}
			}
		}
	}
	if out.Cluster != "" {
		for _, c := range clusters {
			if c.Name == out.Cluster {
				out.AggregateChildren = aggregateChildren(c)
			}
		}
	}
	return out
}

func tcpProxyCluster(fc *listenerv3.FilterChain) string {
	for _, f := range fc.Filters {
		tp := &tcpproxyv3.TcpProxy{}
		if f.GetTypedConfig() != nil && f.GetTypedConfig().MessageIs(tp) && f.GetTypedConfig().UnmarshalTo(tp) == nil {
			return tp.GetCluster()
		}
	}
	return ""
}

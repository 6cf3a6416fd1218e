package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"istio.io/istio/pkg/config/analysis/analyzers"
	"istio.io/istio/pkg/config/analysis/local"
)

// analyze runs Istio's analyzers (what `istioctl analyze` runs on files) over the cluster's objects and the config.
// An Error of the codes below about one of the generated objects is an error: Istio ignores that configuration, or
// applies it only partly or in an undefined way (IST0109: two VirtualServices for one host, a sidecar applies only
// one). Every other message is a warning. Not errors: IST0101 "Referenced host+subset not found" resolves a non
// cluster.local host (reviews.default.svc.kind3.global) in the VirtualService's namespace, so it misses the
// federated DestinationRules in istio-system that istiod does apply (the reference check on the xDS output catches
// really missing subsets); IST0173 "subset selects no pods" does not see ServiceEntry endpoints.
func analyze(docs []object, generated map[string]bool) (errs, warns []string, err error) {
	var b strings.Builder
	for _, d := range docs {
		js, err := json.Marshal(d)
		if err != nil {
			return nil, nil, err
		}
		b.WriteString("---\n")
		b.Write(js)
		b.WriteString("\n")
	}
	sa := local.NewSourceAnalyzer(analyzers.AllCombined(), "", "istio-system", nil)
	if err := sa.AddDefaultResources(); err != nil {
		return nil, nil, err
	}
	if err := sa.AddReaderKubeSource([]local.ReaderSource{{Name: "oracle-input", Reader: strings.NewReader(b.String())}}); err != nil {
		return nil, nil, err
	}
	cancel := make(chan struct{})
	res, err := sa.Analyze(cancel)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range res.Messages {
		subject, key := "", ""
		if m.Resource != nil {
			subject = m.Resource.Origin.FriendlyName() // "VirtualService default/reviews"
			key = strings.Replace(subject, " ", "/", 1)
			subject = " (" + subject + ")"
		}
		line := fmt.Sprintf("istioctl analyze: %v [%v]%s %s", m.Type.Level(), m.Type.Code(), subject, fmt.Sprintf(m.Type.Template(), m.Parameters...))
		if m.Type.Level().String() == "Error" && generated[key] && errorCodes[m.Type.Code()] {
			errs = append(errs, line)
		} else {
			warns = append(warns, line)
		}
	}
	return errs, warns, nil
}

var errorCodes = map[string]bool{
	"IST0106": true, // schema validation error
	"IST0109": true, // VirtualServices for the mesh gateway with the same host
	"IST0110": true, // Sidecars selecting the same pod
	"IST0111": true, // Sidecars without selector in one namespace
	"IST0112": true, // a destination on a multi-port service without a port
	"IST0145": true, // conflicting Gateways
	"IST0152": true, // EnvoyFilter REPLACE where it is ignored
	"IST0153": true, // EnvoyFilter ADD where it is ignored
	"IST0154": true, // EnvoyFilter REMOVE where it is ignored
}

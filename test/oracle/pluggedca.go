package main

// oracle plugged-ca: Istio's own plug-in CA code on our `cacerts` (issue 8, "Istio's own code accepts our
// certificates"). For each folder holding ca-cert.pem, ca-key.pem, cert-chain.pem and root-cert.pem it does what
// istiod does at start with /etc/cacerts (pilot/pkg/bootstrap/istio_ca.go createIstioCA: the four files must all be
// there, then ca.NewPluggedCertIstioCAOptions → util.NewVerifiedKeyCertBundleFromFile, then ca.NewIstioCA, with
// istiod's default TTLs), has that CA sign a workload CSR made as istio-agent makes it (util.GenCSR, RSA 2048, the
// SPIFFE identity as Host) for the identity given, and verifies the workload chain against root-cert.pem with Go's
// x509 (as an Envoy peer would: leaf + the chain istiod serves, against the trust bundle), for client and server
// use, checks that the URI SAN is exactly the identity, and runs Istio's util.VerifyCertificate too. Then every
// workload certificate is verified under every other folder's root-cert.pem: one shared root means a kind2
// workload is trusted by kind3's proxies.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"istio.io/istio/security/pkg/cmd"
	"istio.io/istio/security/pkg/pki/ca"
	"istio.io/istio/security/pkg/pki/util"
)

type certInfo struct {
	Subject      string   `json:"subject"`
	Issuer       string   `json:"issuer"`
	NotBefore    string   `json:"notBefore"`
	NotAfter     string   `json:"notAfter"`
	IsCA         bool     `json:"isCA"`
	URIs         []string `json:"uris,omitempty"`
	KeyAlgorithm string   `json:"keyAlgorithm"`
	// SHA-256 of the DER, colon-separated upper-case hex (as `openssl x509 -fingerprint -sha256`).
	Fingerprint string `json:"fingerprint"`
}

type workloadResult struct {
	Identity string `json:"identity"`
	// The workload certificate Istio's CA signed (the leaf).
	Certificate certInfo `json:"certificate"`
	// Subjects of the chain SignWithCertChain returned: the leaf then cert-chain.pem.
	Chain []string `json:"chain"`
	// Go x509.Verify of leaf + chain against this bundle's root-cert.pem, for ExtKeyUsage ClientAuth and ServerAuth.
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verifyError,omitempty"`
	// Subjects of the chain Go built (leaf → root).
	VerifiedChain []string `json:"verifiedChain,omitempty"`
	// The certificate's SPIFFE IDs (util.ExtractIDs) are exactly [identity].
	IdentityMatches bool `json:"identityMatches"`
	// Istio's util.VerifyCertificate(key, chain, root, {Host: identity, workload key usages, not a CA}).
	IstioVerified    bool   `json:"istioVerified"`
	IstioVerifyError string `json:"istioVerifyError,omitempty"`
}

type bundleResult struct {
	Name string `json:"name"`
	Dir  string `json:"dir"`
	// Istio's plugged-CA loader took the folder and NewIstioCA made a CA of it.
	Loaded    bool   `json:"loaded"`
	LoadError string `json:"loadError,omitempty"`
	// ca-cert.pem and the first certificate of root-cert.pem, when they parse.
	CACert *certInfo `json:"caCert,omitempty"`
	Root   *certInfo `json:"root,omitempty"`
	// The TTL istiod's CA gives workloads by default (capped by the CA certificate).
	DefaultWorkloadTTL string          `json:"defaultWorkloadTTL,omitempty"`
	Workload           *workloadResult `json:"workload,omitempty"`
}

type crossResult struct {
	// Whose workload certificate (signed by that bundle's intermediate) ...
	Workload string `json:"workload"`
	// ... verified under which bundle's root-cert.pem.
	Root     string `json:"root"`
	Verified bool   `json:"verified"`
	Error    string `json:"error,omitempty"`
}

type pluggedCAResult struct {
	Bundles  []bundleResult `json:"bundles"`
	Cross    []crossResult  `json:"cross"`
	IstioLog []logEntry     `json:"istioLog,omitempty"`
	// Every refusal and failed check; non-empty means exit 1.
	Errors []string `json:"errors"`
}

// The cacerts layout istiod reads from /etc/cacerts (ca.CACertFile etc.).
var cacertsFiles = []string{ca.CACertFile, ca.CAPrivateKeyFile, ca.CertChainFile, ca.RootCertFile}

func pluggedCAMain(args []string) int {
	fs := flag.NewFlagSet("oracle plugged-ca", flag.ContinueOnError)
	var dirs, identities stringList
	fs.Var(&dirs, "dir", "NAME=DIR: a folder holding ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem (repeatable)")
	fs.Var(&identities, "identity", "NAME=spiffe://TD/ns/NS/sa/SA: the workload identity to sign for NAME (default spiffe://NAME/ns/default/sa/default)")
	workloadKey := fs.String("workload-key", "rsa", "the workload key istio-agent makes: rsa (2048, its default) or ecdsa (P-256)")
	verbose := fs.Bool("v", false, "print Istio's own log on stderr")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, `usage: oracle plugged-ca --dir NAME=DIR... [--identity NAME=spiffe://...]... [--workload-key rsa|ecdsa]

Loads each folder with Istio's plugged-CA loader (what istiod runs at start on /etc/cacerts), has that CA sign a
workload certificate for the identity, verifies it against the folder's root-cert.pem (Go x509, client and server
use; URI SAN = identity; Istio's util.VerifyCertificate), and every workload certificate under every other folder's
root-cert.pem. stdout: one JSON object. Exit 0 when all of it holds, 1 when Istio refused a bundle or a check
failed (errors, also on stderr), 2 on bad usage.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(dirs) == 0 || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "oracle plugged-ca: give at least one --dir NAME=DIR (and no positional arguments)")
		fs.Usage()
		return 2
	}
	if *workloadKey != "rsa" && *workloadKey != "ecdsa" {
		fmt.Fprintf(os.Stderr, "oracle plugged-ca: --workload-key %q: use rsa or ecdsa\n", *workloadKey)
		return 2
	}
	type named struct{ name, dir string }
	var bundles []named
	seen := map[string]bool{}
	for _, d := range dirs {
		name, dir, ok := strings.Cut(d, "=")
		if !ok || name == "" || dir == "" {
			fmt.Fprintf(os.Stderr, "oracle plugged-ca: --dir %q: expected NAME=DIR\n", d)
			return 2
		}
		if seen[name] {
			fmt.Fprintf(os.Stderr, "oracle plugged-ca: --dir %s given twice\n", name)
			return 2
		}
		seen[name] = true
		bundles = append(bundles, named{name, dir})
	}
	ids := map[string]string{}
	for _, i := range identities {
		name, id, ok := strings.Cut(i, "=")
		if !ok || !seen[name] || !strings.HasPrefix(id, "spiffe://") {
			fmt.Fprintf(os.Stderr, "oracle plugged-ca: --identity %q: expected NAME=spiffe://... with NAME one of the --dir names\n", i)
			return 2
		}
		ids[name] = id
	}
	capture, err := configureIstioLog(*verbose)
	if err != nil {
		fmt.Fprintf(os.Stderr, "oracle plugged-ca: configuring Istio's log: %v\n", err)
		return 2
	}

	res := pluggedCAResult{Bundles: []bundleResult{}, Cross: []crossResult{}, Errors: []string{}}
	type signed struct {
		name     string
		leaf     *x509.Certificate
		chainPEM []byte
	}
	var workloads []signed
	roots := map[string][]byte{}
	for _, b := range bundles {
		id := ids[b.name]
		if id == "" {
			id = "spiffe://" + b.name + "/ns/default/sa/default"
		}
		br, leaf, chainPEM, errs := checkBundle(b.name, b.dir, id, *workloadKey)
		res.Bundles = append(res.Bundles, br)
		res.Errors = append(res.Errors, errs...)
		if root, err := os.ReadFile(filepath.Join(b.dir, ca.RootCertFile)); err == nil && br.Loaded {
			roots[b.name] = root
		}
		if leaf != nil {
			workloads = append(workloads, signed{b.name, leaf, chainPEM})
		}
	}
	for _, w := range workloads {
		for _, b := range bundles {
			root, ok := roots[b.name]
			if b.name == w.name || !ok {
				continue
			}
			cr := crossResult{Workload: w.name, Root: b.name}
			if _, err := verifyChain(w.leaf, w.chainPEM, root); err != nil {
				cr.Error = err.Error()
				res.Errors = append(res.Errors, fmt.Sprintf("%s's workload certificate does not verify under %s's root-cert.pem: %v", w.name, b.name, err))
			} else {
				cr.Verified = true
			}
			res.Cross = append(res.Cross, cr)
		}
	}
	res.IstioLog = capture.snapshot()

	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		fmt.Fprintf(os.Stderr, "oracle plugged-ca: %v\n", err)
		return 2
	}
	for _, e := range res.Errors {
		fmt.Fprintf(os.Stderr, "oracle plugged-ca: error: %s\n", e)
	}
	if len(res.Errors) > 0 {
		return 1
	}
	return 0
}

// checkBundle loads one folder as istiod does, signs a workload certificate for id and verifies it.
func checkBundle(name, dir, id, workloadKey string) (br bundleResult, leaf *x509.Certificate, chainPEM []byte, errs []string) {
	br = bundleResult{Name: name, Dir: dir}
	if c, err := firstCert(filepath.Join(dir, ca.CACertFile)); err == nil {
		br.CACert = c
	}
	if c, err := firstCert(filepath.Join(dir, ca.RootCertFile)); err == nil {
		br.Root = c
	}
	refuse := func(err error) (bundleResult, *x509.Certificate, []byte, []string) {
		br.LoadError = err.Error()
		return br, nil, nil, []string{fmt.Sprintf("%s: Istio's plugged-CA loader refused %s: %v", name, dir, err)}
	}
	// istiod: checkCABundleCompleteness, then "failed to create an istiod CA: incomplete signing CA bundle detected".
	var missing []string
	for _, f := range cacertsFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return refuse(fmt.Errorf("incomplete signing CA bundle: %s missing (istiod needs all of %s)", strings.Join(missing, ", "), strings.Join(cacertsFiles, ", ")))
	}
	// detectSigningCABundleAndCRL: the istiod file format.
	files := ca.SigningCAFileBundle{
		RootCertFile:    filepath.Join(dir, ca.RootCertFile),
		CertChainFiles:  []string{filepath.Join(dir, ca.CertChainFile)},
		SigningCertFile: filepath.Join(dir, ca.CACertFile),
		SigningKeyFile:  filepath.Join(dir, ca.CAPrivateKeyFile),
	}
	// istiod: workloadCertTTL (DEFAULT_WORKLOAD_CERT_TTL), maxWorkloadCertTTL, caRSAKeySize (2048) at their defaults.
	opts, err := ca.NewPluggedCertIstioCAOptions(files, cmd.DefaultWorkloadCertTTL, cmd.DefaultMaxWorkloadCertTTL, 2048)
	if err != nil {
		return refuse(fmt.Errorf("failed to create an istiod CA: %v", err))
	}
	istioCA, err := ca.NewIstioCA(opts)
	if err != nil {
		return refuse(fmt.Errorf("failed to create an istiod CA: %v", err))
	}
	br.Loaded = true

	// istio-agent's CSR (security/pkg/nodeagent/cache/secretcache.go generateNewSecret).
	certOptions := util.CertOptions{Host: id, RSAKeySize: 2048}
	if workloadKey == "ecdsa" {
		certOptions = util.CertOptions{Host: id, ECSigAlg: util.EcdsaSigAlg, ECCCurve: util.P256Curve}
	}
	csrPEM, keyPEM, err := util.GenCSR(certOptions)
	if err != nil {
		return br, nil, nil, []string{fmt.Sprintf("%s: generating the workload CSR: %v", name, err)}
	}
	// istiod's CA server (security/pkg/server/ca/server.go CreateCertificate): SubjectIDs = the caller's identity,
	// TTL from the request (0: the CA's default), not a CA.
	chain, err := istioCA.SignWithCertChain(csrPEM, ca.CertOpts{SubjectIDs: []string{id}, TTL: 0, ForCA: false})
	if err != nil {
		return br, nil, nil, []string{fmt.Sprintf("%s: Istio's CA refused to sign a workload certificate for %s: %v", name, id, err)}
	}
	chainPEM = []byte(strings.Join(chain, ""))
	certs, err := parseCerts(chainPEM)
	if err != nil || len(certs) == 0 {
		return br, nil, nil, []string{fmt.Sprintf("%s: the signed chain does not parse: %v", name, err)}
	}
	leaf = certs[0]
	br.DefaultWorkloadTTL = leaf.NotAfter.Sub(leaf.NotBefore).String()
	w := &workloadResult{Identity: id, Certificate: describe(leaf)}
	for _, c := range certs {
		w.Chain = append(w.Chain, c.Subject.String())
	}
	root, _ := os.ReadFile(files.RootCertFile)
	if verified, err := verifyChain(leaf, chainPEM, root); err != nil {
		w.VerifyError = err.Error()
		errs = append(errs, fmt.Sprintf("%s: the workload certificate for %s does not verify under its own root-cert.pem: %v", name, id, err))
	} else {
		w.Verified = true
		for _, c := range verified {
			w.VerifiedChain = append(w.VerifiedChain, c.Subject.String())
		}
	}
	spiffeIDs, err := util.ExtractIDs(leaf.Extensions)
	w.IdentityMatches = err == nil && len(spiffeIDs) == 1 && spiffeIDs[0] == id
	if !w.IdentityMatches {
		errs = append(errs, fmt.Sprintf("%s: the workload certificate's identities are %v (err %v), want exactly [%s]", name, spiffeIDs, err, id))
	}
	// The fields Istio's own CA test (security/pkg/pki/ca/ca_test.go, "Workload uses RSA") expects of a workload.
	expected := &util.VerifyFields{
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		IsCA:        false,
		Host:        id,
	}
	if err := util.VerifyCertificate(keyPEM, chainPEM, root, expected); err != nil {
		w.IstioVerifyError = err.Error()
		errs = append(errs, fmt.Sprintf("%s: Istio's util.VerifyCertificate refused the workload certificate: %v", name, err))
	} else {
		w.IstioVerified = true
	}
	br.Workload = w
	return br, leaf, chainPEM, errs
}

// verifyChain verifies leaf, with the rest of chainPEM as intermediates, against the roots in rootPEM, for both
// ends of an mTLS connection (a sidecar is client and server). It returns the chain built for ClientAuth.
func verifyChain(leaf *x509.Certificate, chainPEM, rootPEM []byte) ([]*x509.Certificate, error) {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		return nil, errors.New("root-cert.pem holds no certificate")
	}
	intermediates := x509.NewCertPool()
	certs, err := parseCerts(chainPEM)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 || !certs[0].Equal(leaf) {
		return nil, errors.New("the chain does not start with the workload certificate")
	}
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	var built []*x509.Certificate
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, KeyUsages: []x509.ExtKeyUsage{usage}})
		if err != nil {
			return nil, err
		}
		built = chains[0]
	}
	return built, nil
}

func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := bytes.TrimSpace(data); len(rest) > 0; {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		rest = r
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func firstCert(path string) (*certInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := parseCerts(data)
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("%s: no certificate", path)
	}
	c := describe(certs[0])
	return &c, nil
}

func describe(c *x509.Certificate) certInfo {
	info := certInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotBefore: c.NotBefore.UTC().Format(time.RFC3339),
		NotAfter: c.NotAfter.UTC().Format(time.RFC3339), IsCA: c.IsCA}
	for _, u := range c.URIs {
		info.URIs = append(info.URIs, u.String())
	}
	sort.Strings(info.URIs)
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		info.KeyAlgorithm = fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		info.KeyAlgorithm = "ECDSA " + k.Curve.Params().Name
	default:
		info.KeyAlgorithm = fmt.Sprintf("%T", k)
	}
	sum := sha256.Sum256(c.Raw)
	hex := strings.ToUpper(fmt.Sprintf("%x", sum[:]))
	parts := make([]string, 0, len(sum))
	for i := 0; i < len(hex); i += 2 {
		parts = append(parts, hex[i:i+2])
	}
	info.Fingerprint = strings.Join(parts, ":")
	return info
}

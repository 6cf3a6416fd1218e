package main

// oracle plugged-ca on certificates Istio's own generator makes (a control: our checks are not stricter than Istio's
// plug-in CA): two intermediates of one root load, sign, verify and cross-verify; one of another root does not
// cross-verify; a mismatched key is refused by the loader. Our own certificates: test/integration/trust-istio.test.ts.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"istio.io/istio/security/pkg/pki/util"
)

type pem4 map[string][]byte

func istioRoot(t *testing.T) (cert, key []byte) {
	t.Helper()
	cert, key, err := util.GenCertKeyFromOptions(util.CertOptions{Org: "Istio", IsCA: true, IsSelfSigned: true, RSAKeySize: 2048,
		NotBefore: time.Now().Add(-time.Minute), TTL: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func istioIntermediate(t *testing.T, rootCert, rootKey []byte, td string) pem4 {
	t.Helper()
	signer, err := util.ParsePemEncodedCertificate(rootCert)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := util.ParsePemEncodedKey(rootKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := util.GenCertKeyFromOptions(util.CertOptions{Host: "spiffe://" + td + "/ns/istio-system/sa/istiod", Org: "Istio", IsCA: true,
		RSAKeySize: 2048, SignerCert: signer, SignerPriv: priv, NotBefore: time.Now().Add(-time.Minute), TTL: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return pem4{"ca-cert.pem": cert, "ca-key.pem": key, "cert-chain.pem": append(append([]byte{}, cert...), rootCert...), "root-cert.pem": rootCert}
}

func writeBundle(t *testing.T, files pem4) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPluggedCAOnIstioMadeCertificates(t *testing.T) {
	rootCert, rootKey := istioRoot(t)
	id := "spiffe://kind2/ns/default/sa/bookinfo-reviews"
	kind2 := istioIntermediate(t, rootCert, rootKey, "kind2")
	kind3 := istioIntermediate(t, rootCert, rootKey, "kind3")

	br, leaf, chain, errs := checkBundle("kind2", writeBundle(t, kind2), id, "rsa")
	if len(errs) > 0 || !br.Loaded || br.Workload == nil || !br.Workload.Verified || !br.Workload.IdentityMatches || !br.Workload.IstioVerified {
		t.Fatalf("Istio-made bundle: %+v %v", br, errs)
	}
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != id {
		t.Fatalf("leaf URIs %v", leaf.URIs)
	}
	if _, err := verifyChain(leaf, chain, kind3["root-cert.pem"]); err != nil {
		t.Fatalf("same root, kind3's bundle: %v", err)
	}
	otherCert, _ := istioRoot(t)
	if _, err := verifyChain(leaf, chain, otherCert); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("another root must not verify kind2's workload, got %v", err)
	}
	if _, err := verifyChain(leaf, chain[:0], rootCert); err == nil {
		t.Fatal("an empty chain must not verify")
	}

	mismatched := pem4{}
	for k, v := range kind2 {
		mismatched[k] = v
	}
	mismatched["ca-key.pem"] = kind3["ca-key.pem"]
	br, _, _, errs = checkBundle("bad", writeBundle(t, mismatched), id, "rsa")
	if br.Loaded || len(errs) != 1 || !strings.Contains(br.LoadError, "does not match the key") {
		t.Fatalf("mismatched key: loaded %v, %q, %v", br.Loaded, br.LoadError, errs)
	}
	if br.CACert == nil || !br.CACert.IsCA || br.CACert.KeyAlgorithm != "RSA 2048" {
		t.Fatalf("caCert %+v", br.CACert)
	}
}

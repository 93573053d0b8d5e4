package seeded

import "testing"

// A certificate signed with a generated CA verifies against it, and keeps
// its names.
func TestSeededCertificatesVerify(t *testing.T) {
	funcs := Funcs("c")
	ca, err := funcs["genCA"].(func(string, int) (seededCert, error))("ca", 10)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := funcs["genSignedCert"].(func(string, []any, []any, int, seededCert) (seededCert, error))("svc", nil, []any{"svc.local"}, 10, ca)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _, err := parseCert(ca)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _, err := parseCert(cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.CheckSignatureFrom(caCert); err != nil {
		t.Errorf("the signed certificate does not verify against its CA: %v", err)
	}
	if leaf.DNSNames[0] != "svc.local" || !caCert.IsCA {
		t.Errorf("names or CA flag lost: %v %v", leaf.DNSNames, caCert.IsCA)
	}
}

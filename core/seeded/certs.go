package seeded

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"text/template"
	"time"
)

// seededCert is what Sprig's certificate functions return: PEM text a
// template reads as .Cert and .Key.
type seededCert struct {
	Cert string
	Key  string
}

// seededCertFuncs replace Sprig's key and certificate generators with ones
// that draw from source: the same chart, arguments and call give the same
// key and certificate, valid from the fixed now. Go ignores a custom
// source of randomness unless GODEBUG cryptocustomrand=1, which go.mod
// sets; crypto/rand keeps being used everywhere else.
func seededCertFuncs(source func(fn string, args ...any) io.Reader, now time.Time) template.FuncMap {
	rsaKey := func(fn string, bits int, args ...any) (*rsa.PrivateKey, error) {
		return rsa.GenerateKey(source(fn, append(args, bits)...), bits)
	}
	caKey := func(fn string, args ...any) (crypto.Signer, error) { return rsaKey(fn, 2048, args...) }
	issue := func(fn string, tmpl, parent *x509.Certificate, key, parentKey crypto.Signer) (seededCert, error) {
		serial := make([]byte, 16)
		if _, err := io.ReadFull(source(fn+"/serial", tmpl.Subject.CommonName), serial); err != nil {
			return seededCert{}, err
		}
		tmpl.SerialNumber = new(big.Int).SetBytes(serial)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(source(fn+"/sign", tmpl.Subject.CommonName), tmpl, parent, key.Public(), parentKey)
		if err != nil {
			return seededCert{}, err
		}
		keyPEM, err := keyToPEM(key)
		if err != nil {
			return seededCert{}, err
		}
		return seededCert{Cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), Key: keyPEM}, nil
	}
	base := func(cn string, ips, dns []any, days int) (*x509.Certificate, error) {
		t := &x509.Certificate{Subject: pkix.Name{CommonName: cn}, NotBefore: now, NotAfter: now.Add(time.Duration(days) * 24 * time.Hour),
			KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
		for _, ip := range ips {
			parsed := net.ParseIP(fmt.Sprint(ip))
			if parsed == nil {
				return nil, fmt.Errorf("error parsing ip: %v", ip)
			}
			t.IPAddresses = append(t.IPAddresses, parsed)
		}
		for _, d := range dns {
			t.DNSNames = append(t.DNSNames, fmt.Sprint(d))
		}
		return t, nil
	}
	ca := func(cn string, days int, key crypto.Signer) (seededCert, error) {
		t, _ := base(cn, nil, nil, days)
		t.IsCA, t.KeyUsage = true, t.KeyUsage|x509.KeyUsageCertSign
		return issue("genCA", t, nil, key, nil)
	}
	signed := func(fn, cn string, ips, dns []any, days int, parent *seededCert, key crypto.Signer) (seededCert, error) {
		t, err := base(cn, ips, dns, days)
		if err != nil {
			return seededCert{}, err
		}
		if parent == nil {
			return issue(fn, t, nil, key, nil)
		}
		caCert, caKey, err := parseCert(*parent)
		if err != nil {
			return seededCert{}, err
		}
		return issue(fn, t, caCert, key, caKey)
	}
	return template.FuncMap{
		"genPrivateKey": func(typ string) string {
			var key crypto.Signer
			var err error
			switch typ {
			case "", "rsa":
				key, err = rsaKey("genPrivateKey", 4096, typ)
			case "ecdsa":
				key, err = ecdsa.GenerateKey(elliptic.P256(), source("genPrivateKey", typ))
			case "ed25519":
				_, key, err = ed25519.GenerateKey(source("genPrivateKey", typ))
			default:
				return "Unknown type " + typ
			}
			if err != nil {
				return "failed to generate private key: " + err.Error()
			}
			text, err := keyToPEM(key)
			if err != nil {
				return "failed to generate private key: " + err.Error()
			}
			return text
		},
		"genCA": func(cn string, days int) (seededCert, error) {
			key, err := caKey("genCA", cn, days)
			if err != nil {
				return seededCert{}, err
			}
			return ca(cn, days, key)
		},
		"genCAWithKey": func(cn string, days int, keyPEM string) (seededCert, error) {
			key, err := parseKey(keyPEM)
			if err != nil {
				return seededCert{}, err
			}
			return ca(cn, days, key)
		},
		"genSelfSignedCert": func(cn string, ips, dns []any, days int) (seededCert, error) {
			key, err := caKey("genSelfSignedCert", cn, ips, dns, days)
			if err != nil {
				return seededCert{}, err
			}
			return signed("genSelfSignedCert", cn, ips, dns, days, nil, key)
		},
		"genSelfSignedCertWithKey": func(cn string, ips, dns []any, days int, keyPEM string) (seededCert, error) {
			key, err := parseKey(keyPEM)
			if err != nil {
				return seededCert{}, err
			}
			return signed("genSelfSignedCertWithKey", cn, ips, dns, days, nil, key)
		},
		"genSignedCert": func(cn string, ips, dns []any, days int, parent seededCert) (seededCert, error) {
			key, err := caKey("genSignedCert", cn, ips, dns, days)
			if err != nil {
				return seededCert{}, err
			}
			return signed("genSignedCert", cn, ips, dns, days, &parent, key)
		},
		"genSignedCertWithKey": func(cn string, ips, dns []any, days int, parent seededCert, keyPEM string) (seededCert, error) {
			key, err := parseKey(keyPEM)
			if err != nil {
				return seededCert{}, err
			}
			return signed("genSignedCertWithKey", cn, ips, dns, days, &parent, key)
		},
		"buildCustomCert": func(certB64, keyB64 string) (seededCert, error) {
			c, err := base64.StdEncoding.DecodeString(certB64)
			if err != nil {
				return seededCert{}, errors.New("unable to decode base64 certificate")
			}
			k, err := base64.StdEncoding.DecodeString(keyB64)
			if err != nil {
				return seededCert{}, errors.New("unable to decode base64 private key")
			}
			out := seededCert{Cert: string(c), Key: string(k)}
			if _, _, err := parseCert(out); err != nil {
				return seededCert{}, err
			}
			return out, nil
		},
	}
}

func keyToPEM(key crypto.Signer) (string, error) {
	var block *pem.Block
	switch k := key.(type) {
	case *rsa.PrivateKey:
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return "", err
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	default:
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return "", err
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	return string(pem.EncodeToMemory(block)), nil
}

func parseKey(text string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errors.New("error decoding PEM key: no PEM data")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("error parsing private key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("the private key cannot sign")
	}
	return signer, nil
}

func parseCert(c seededCert) (*x509.Certificate, crypto.Signer, error) {
	block, _ := pem.Decode([]byte(c.Cert))
	if block == nil {
		return nil, nil, errors.New("error decoding certificate: no PEM data")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("error parsing certificate: %w", err)
	}
	key, err := parseKey(c.Key)
	return cert, key, err
}

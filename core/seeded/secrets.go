package seeded

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"text/template"
	"time"

	"golang.org/x/crypto/blowfish"
)

// bcryptCost is the cost sprig's bcrypt and htpasswd hash with
// (golang.org/x/crypto/bcrypt's default).
const bcryptCost = 10

// seededSecretFuncs replace the functions whose output hides a random
// salt, IV or order (bcrypt, htpasswd, encryptAES, randBytes, shuffle) and
// one that reads the clock (ago) with ones that draw from source and now.
// Their output is what sprig's would be with that salt, IV or order: a
// bcrypt hash verifies the password, a ciphertext decrypts with
// decryptAES.
func seededSecretFuncs(source func(fn string, args ...any) io.Reader, now time.Time) template.FuncMap {
	hash := func(fn, password string) string {
		var salt [16]byte
		if _, err := io.ReadFull(source(fn, password), salt[:]); err != nil {
			return fmt.Sprintf("failed to encrypt string with bcrypt: %s", err)
		}
		h, err := bcryptHash([]byte(password), salt, bcryptCost)
		if err != nil {
			return fmt.Sprintf("failed to encrypt string with bcrypt: %s", err)
		}
		return h
	}
	return template.FuncMap{
		"bcrypt": func(input string) string { return hash("bcrypt", input) },
		"htpasswd": func(username, password string) string {
			if strings.Contains(username, ":") {
				return fmt.Sprintf("invalid username: %s", username)
			}
			return username + ":" + hash("htpasswd", password)
		},
		"randBytes": func(count int) (string, error) {
			buf := make([]byte, max(count, 0))
			if _, err := io.ReadFull(source("randBytes", count), buf); err != nil {
				return "", err
			}
			return base64.StdEncoding.EncodeToString(buf), nil
		},
		"encryptAES": func(password, plaintext string) (string, error) {
			if plaintext == "" {
				return "", nil
			}
			key := make([]byte, 32)
			copy(key, password)
			block, err := aes.NewCipher(key)
			if err != nil {
				return "", err
			}
			pad := aes.BlockSize - len(plaintext)%aes.BlockSize
			content := append([]byte(plaintext), bytes.Repeat([]byte{byte(pad)}, pad)...)
			out := make([]byte, aes.BlockSize+len(content))
			if _, err := io.ReadFull(source("encryptAES", password, plaintext), out[:aes.BlockSize]); err != nil {
				return "", err
			}
			cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], content)
			return base64.StdEncoding.EncodeToString(out), nil
		},
		"shuffle": func(s string) string {
			r := []rune(s)
			var seed [32]byte
			_, _ = io.ReadFull(source("shuffle", s), seed[:])
			rand.New(rand.NewChaCha8(seed)).Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
			return string(r)
		},
		"ago": func(date any) string {
			t := now
			switch d := date.(type) {
			case time.Time:
				t = d
			case int64:
				t = time.Unix(d, 0)
			case int:
				t = time.Unix(int64(d), 0)
			}
			return now.Sub(t).Round(time.Second).String()
		},
	}
}

// bcryptHash is the bcrypt hash of password with salt at cost, in the
// modular crypt format ($2a$COST$SALTHASH) that bcrypt.CompareHashAndPassword
// reads: EksBlowfishSetup, then "OrpheanBeholderScryDoubt" encrypted 64
// times, as the bcrypt paper (Provos and Mazières, 1999) describes.
func bcryptHash(password []byte, salt [16]byte, cost int) (string, error) {
	if len(password) > 72 {
		return "", fmt.Errorf("bcrypt: password length exceeds 72 bytes")
	}
	key := append(append([]byte(nil), password...), 0)
	c, err := blowfish.NewSaltedCipher(key, salt[:])
	if err != nil {
		return "", err
	}
	for range 1 << cost {
		blowfish.ExpandKey(key, c)
		blowfish.ExpandKey(salt[:], c)
	}
	text := []byte("OrpheanBeholderScryDoubt")
	for i := 0; i < len(text); i += 8 {
		for range 64 {
			c.Encrypt(text[i:i+8], text[i:i+8])
		}
	}
	enc := base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)
	return fmt.Sprintf("$2a$%02d$%s%s", cost, enc.EncodeToString(salt[:]), enc.EncodeToString(text[:23])), nil
}

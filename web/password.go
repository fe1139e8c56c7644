package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// The argon2id parameters of new hashes, as OWASP recommends for argon2id
// with 19 MiB: a hash takes tens of milliseconds and 19 MiB, and hashing
// at most two passwords at once keeps a burst of sign-ins from taking the
// server's memory.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
)

// MinPassword and MaxPassword bound a password's length, in bytes.
const (
	MinPassword = 8
	MaxPassword = 256
)

// hashing admits two argon2 hashes at once.
var hashing = make(chan struct{}, 2)

// hashPassword returns pw's argon2id hash in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$salt$hash.
func hashPassword(ctx context.Context, pw string) (string, error) {
	var salt [16]byte
	rand.Read(salt[:])
	key, err := argonKey(ctx, pw, salt[:], argonTime, argonMemory, argonThreads)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt[:]), b64.EncodeToString(key)), nil
}

// checkPassword reports whether pw matches hash, an encoded argon2id hash.
// An empty or malformed hash matches nothing, after the same work as a
// real one, so that timing does not tell an unknown address from a wrong
// password.
func checkPassword(ctx context.Context, hash, pw string) (bool, error) {
	salt, want, t, m, p, ok := parseHash(hash)
	if !ok {
		salt, want, t, m, p = make([]byte, 16), nil, argonTime, argonMemory, argonThreads
	}
	got, err := argonKey(ctx, pw, salt, t, m, p)
	if err != nil {
		return false, err
	}
	return ok && subtle.ConstantTimeCompare(got, want) == 1, nil
}

func argonKey(ctx context.Context, pw string, salt []byte, t, m uint32, p uint8) ([]byte, error) {
	select {
	case hashing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-hashing }()
	return argon2.IDKey([]byte(pw), salt, t, m, p, argonKeyLen), nil
}

// parseHash reads an encoded argon2id hash. It refuses parameters beyond
// what this server would choose, so a tampered row cannot make one check
// take a gigabyte.
func parseHash(hash string) (salt, key []byte, t, m uint32, p uint8, ok bool) {
	f := strings.Split(hash, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return nil, nil, 0, 0, 0, false
	}
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil ||
		m < 1024 || m > 256*1024 || t < 1 || t > 10 || p < 1 || p > 4 {
		return nil, nil, 0, 0, 0, false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(f[4])
	key, err2 := b64.DecodeString(f[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) != argonKeyLen {
		return nil, nil, 0, 0, 0, false
	}
	return salt, key, t, m, p, true
}

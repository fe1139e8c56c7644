package web

import (
	"context"
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	ctx := context.Background()
	h, err := hashPassword(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hashPassword = %q, want an argon2id PHC string with the OWASP parameters", h)
	}
	if h2, _ := hashPassword(ctx, "correct horse"); h2 == h {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
	salt, key, _ := strings.Cut(strings.TrimPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), "$")
	tests := []struct {
		name, hash, pw string
		want           bool
	}{
		{"right password", h, "correct horse", true},
		{"wrong password", h, "correct horsE", false},
		{"empty password", h, "", false},
		{"no hash (no password set)", "", "", false},
		{"bcrypt hash", "$2a$10$abcdefghijklmnopqrstuu", "correct horse", false},
		{"a gigabyte of memory asked", "$argon2id$v=19$m=1048576,t=2,p=1$" + salt + "$" + key, "correct horse", false},
		{"other version", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key, "correct horse", false},
		{"short key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key[:10], "correct horse", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkPassword(ctx, tt.hash, tt.pw)
			if err != nil || got != tt.want {
				t.Errorf("checkPassword(%q, %q) = %v, %v, want %v", tt.hash, tt.pw, got, err, tt.want)
			}
		})
	}
}

func TestLocalNext(t *testing.T) {
	for in, want := range map[string]string{
		"/exercises/connect?x=1": "/exercises/connect?x=1",
		"":                       "/",
		"https://evil.example":   "/",
		"//evil.example/x":       "/",
		"/\\evil.example":        "/",
		"javascript:alert(1)":    "/",
	} {
		if got := localNext(in); got != want {
			t.Errorf("localNext(%q) = %q, want %q", in, got, want)
		}
	}
}

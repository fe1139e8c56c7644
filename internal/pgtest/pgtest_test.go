package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// TestDatabase gets two databases: each is new, empty and its own.
func TestDatabase(t *testing.T) {
	ctx := context.Background()
	var names []string
	for range 2 {
		u := Database(t)
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatalf("pgx.Connect(%s) = %v", u, err)
		}
		defer conn.Close(ctx)
		var name string
		var tables int
		err = conn.QueryRow(ctx, `SELECT current_database(),
			(SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&name, &tables)
		if err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("database %s has %d tables, want none", name, tables)
		}
		names = append(names, name)
	}
	if names[0] == names[1] {
		t.Errorf("Database returned %s twice", names[0])
	}
}

// TestNoTCP checks that a cluster of our own listens on no TCP port.
func TestNoTCP(t *testing.T) {
	u := Database(t)
	if get().dir == "" {
		t.Log("the server is " + EnvURL + "'s, not ours: nothing to check")
		return
	}
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var listen string
	if err := conn.QueryRow(context.Background(), "SHOW listen_addresses").Scan(&listen); err != nil {
		t.Fatal(err)
	}
	if listen != "" {
		t.Errorf("listen_addresses = %q, want none", listen)
	}
}

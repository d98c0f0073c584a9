package pgtest

import "testing"

func TestWithSearchPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u@localhost:5432/db", "postgres://u@localhost:5432/db?search_path=lc_test_ab"},
		{"postgres://u@localhost/db?sslmode=disable", "postgres://u@localhost/db?search_path=lc_test_ab&sslmode=disable"},
		{"postgresql://u:p%40ss@h/db?search_path=public&sslmode=disable", "postgresql://u:p%40ss@h/db?search_path=lc_test_ab&sslmode=disable"},
		{"host=localhost dbname=db", "host=localhost dbname=db search_path=lc_test_ab"},
	} {
		got, err := WithSearchPath(c.in, "lc_test_ab")
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("WithSearchPath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

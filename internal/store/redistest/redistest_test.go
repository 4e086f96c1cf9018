package redistest

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

func ping(url string) error {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	opt.MaxRetries = -1
	c := redis.NewClient(opt)
	defer c.Close()
	return c.Ping(context.Background()).Err()
}

func TestServerAnswers(t *testing.T) {
	if err := ping(Server(t)); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func TestRestartableStopStart(t *testing.T) {
	p := Restartable(t)
	steps := []struct {
		name string
		act  func()
		up   bool
	}{
		{"started", func() {}, true},
		{"stopped", p.Stop, false},
		{"stopped twice", p.Stop, false},
		{"restarted", p.Start, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.act()
			if err := ping(p.URL()); (err == nil) != st.up {
				t.Errorf("ping after %s: %v, want up=%v", st.name, err, st.up)
			}
		})
	}
}

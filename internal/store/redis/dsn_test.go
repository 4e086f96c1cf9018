package redisstore

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		dsn  string
		want string // summary of the parsed config, or "error: <substring>"
	}{
		{"redis://localhost:6379/0", "single [localhost:6379] db=0 user= pass= tls=false net=nf"},
		{"redis://localhost", "single [localhost:6379] db=0 user= pass= tls=false net=nf"},
		{"redis://u:p%40ss@10.0.0.1:7000/3", "single [10.0.0.1:7000] db=3 user=u pass=p@ss tls=false net=nf"},
		{"redis://:secret@h:1/", "single [h:1] db=0 user= pass=secret tls=false net=nf"},
		{"redis://[::1]:6380/2?network=iss", "single [[::1]:6380] db=2 user= pass= tls=false net=iss"},
		{"rediss://u:p@cache.example.org:6380/1", "single [cache.example.org:6380] db=1 user=u pass=p tls=true(cache.example.org) net=nf"},
		{"redis+sentinel://s1:26379,s2:26379/mymaster", "sentinel(mymaster) [s1:26379 s2:26379] db=0 user= pass= tls=false net=nf"},
		{"redis+sentinel://u:p@s1:26379,s2/mymaster/4?sentinel_password=sp", "sentinel(mymaster) [s1:26379 s2:6379] db=4 user=u pass=p tls=false net=nf sp=sp"},
		{"redis+cluster://a:7000,b:7001,c:7002", "cluster [a:7000 b:7001 c:7002] db=0 user= pass= tls=false net=nf"},
		{"rediss+cluster://u:p@a:7000?network=x.y-z&dial_timeout=2s&pool_size=7", "cluster [a:7000] db=0 user=u pass=p tls=true() net=x.y-z dial=2s pool=7"},
		{"redis+cluster://a:7000/", "cluster [a:7000] db=0 user= pass= tls=false net=nf"},
		{"localhost:6379", "error: missing scheme"},
		{"http://h:1", "error: unknown scheme"},
		{"redis://", "error: no host"},
		{"redis://a:1,b:2", "error: several hosts"},
		{"redis://h:1/x", "error: database \"x\""},
		{"redis://h:1/1/2", "error: want /db"},
		{"redis://h:port", "error: bad port"},
		{"redis+sentinel://s1:26379", "error: want /mastername"},
		{"redis+cluster://a:7000/1", "error: only database 0"},
		{"redis://h:1?network=a%20b", "error: network"},
		{"redis://h:1?colour=red", "error: unknown option"},
		{"redis://h:1?dial_timeout=soon", "error: dial_timeout"},
		{"redis://h:1?sentinel_password=x", "error: only for redis+sentinel"},
		{"redis://h:1?skip_verify=true", "error: needs rediss"},
	}
	for _, tc := range tests {
		t.Run(tc.dsn, func(t *testing.T) {
			cfg, err := parseDSN(tc.dsn)
			if strings.HasPrefix(tc.want, "error: ") {
				if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(tc.want, "error: ")) {
					t.Fatalf("err = %v, want one containing %q", err, strings.TrimPrefix(tc.want, "error: "))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(cfg); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func summary(c config) string {
	o := c.opts
	mode := "single"
	switch {
	case o.MasterName != "":
		mode = "sentinel(" + o.MasterName + ")"
	case o.IsClusterMode:
		mode = "cluster"
	}
	tls := "false"
	if o.TLSConfig != nil {
		tls = "true(" + o.TLSConfig.ServerName + ")"
	}
	s := fmt.Sprintf("%s %v db=%d user=%s pass=%s tls=%s net=%s", mode, o.Addrs, o.DB, o.Username, o.Password, tls, c.network)
	if o.SentinelPassword != "" {
		s += " sp=" + o.SentinelPassword
	}
	if o.DialTimeout != 0 {
		s += " dial=" + o.DialTimeout.String()
	}
	if o.PoolSize != 0 {
		s += fmt.Sprint(" pool=", o.PoolSize)
	}
	return s
}

// A password that does not parse is not echoed in the error, which reaches the terminal
// and the logs.
func TestParseDSNErrorHidesPassword(t *testing.T) {
	_, err := parseDSN("redis://worker:s3cr3t%zz@localhost:6379/0")
	if err == nil {
		t.Fatal("a bad escape in the password parsed")
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("the error shows the password: %v", err)
	}
}

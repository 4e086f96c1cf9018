package redisstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultNetwork is the network name (and so the key hash tag) used when a DSN names none.
const DefaultNetwork = "nf"

// config is what a DSN says: how to reach Redis and which network's keys to use.
type config struct {
	opts    redis.UniversalOptions
	network string
}

var networkName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// parseDSN reads one of the forms described in the package documentation.
func parseDSN(dsn string) (config, error) {
	cfg := config{network: DefaultNetwork}
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return cfg, errors.New("missing scheme (want redis://, rediss://, redis+sentinel:// or redis+cluster://)")
	}
	var mode string
	switch scheme {
	case "redis", "rediss":
		mode = "single"
	case "redis+sentinel", "rediss+sentinel":
		mode = "sentinel"
	case "redis+cluster", "rediss+cluster":
		mode = "cluster"
	default:
		return cfg, fmt.Errorf("unknown scheme %q", scheme)
	}
	tlsOn := strings.HasPrefix(scheme, "rediss")

	// The authority may list several hosts, which net/url does not accept: split it off
	// by hand and let net/url read the user info, path and query.
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	hosts := authority
	var user *url.Userinfo
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		hosts = authority[at+1:]
		u, err := url.Parse("x://" + authority[:at] + "@h")
		if err != nil {
			// Not the parser's message: it quotes the URL, password and all.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return cfg, fmt.Errorf("user info (percent-encode reserved characters in the user name and password): %w", err)
		}
		user = u.User
	}
	u, err := url.Parse("x://h" + tail)
	if err != nil {
		return cfg, err
	}
	if u.Fragment != "" {
		return cfg, errors.New("unexpected fragment")
	}
	o := &cfg.opts
	if user != nil {
		o.Username = user.Username()
		o.Password, _ = user.Password()
	}
	for h := range strings.SplitSeq(hosts, ",") {
		if h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(strings.Trim(h, "[]"), "6379")
		}
		if _, port, err := net.SplitHostPort(h); err != nil {
			return cfg, fmt.Errorf("address %q: %w", h, err)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return cfg, fmt.Errorf("address %q: bad port", h)
		}
		o.Addrs = append(o.Addrs, h)
	}
	if len(o.Addrs) == 0 {
		return cfg, errors.New("no host")
	}

	path := strings.Trim(u.Path, "/")
	var segs []string
	if path != "" {
		segs = strings.Split(path, "/")
	}
	dbSeg := ""
	switch mode {
	case "single":
		if len(o.Addrs) != 1 {
			return cfg, errors.New("several hosts need redis+sentinel:// or redis+cluster://")
		}
		if len(segs) > 1 {
			return cfg, fmt.Errorf("path %q: want /db", u.Path)
		}
		if len(segs) == 1 {
			dbSeg = segs[0]
		}
	case "sentinel":
		if len(segs) < 1 || len(segs) > 2 || segs[0] == "" {
			return cfg, fmt.Errorf("path %q: want /mastername[/db]", u.Path)
		}
		o.MasterName = segs[0]
		if len(segs) == 2 {
			dbSeg = segs[1]
		}
	case "cluster":
		if len(segs) != 0 {
			return cfg, fmt.Errorf("path %q: a cluster has only database 0", u.Path)
		}
		o.IsClusterMode = true
	}
	if dbSeg != "" {
		db, err := strconv.Atoi(dbSeg)
		if err != nil || db < 0 {
			return cfg, fmt.Errorf("database %q: want a number", dbSeg)
		}
		o.DB = db
	}
	if tlsOn {
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if mode == "single" {
			o.TLSConfig.ServerName, _, _ = net.SplitHostPort(o.Addrs[0])
		}
	}

	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "network":
			if !networkName.MatchString(v) {
				return cfg, fmt.Errorf("network %q: want 1-64 letters, digits, '_', '.', '-'", v)
			}
			cfg.network = v
		case "dial_timeout", "read_timeout", "write_timeout":
			d, err := time.ParseDuration(v)
			if err != nil {
				return cfg, fmt.Errorf("%s: %w", k, err)
			}
			switch k {
			case "dial_timeout":
				o.DialTimeout = d
			case "read_timeout":
				o.ReadTimeout = d
			default:
				o.WriteTimeout = d
			}
		case "pool_size", "max_retries":
			n, err := strconv.Atoi(v)
			if err != nil {
				return cfg, fmt.Errorf("%s: %w", k, err)
			}
			if k == "pool_size" {
				o.PoolSize = n
			} else {
				o.MaxRetries = n
			}
		case "sentinel_username", "sentinel_password":
			if mode != "sentinel" {
				return cfg, fmt.Errorf("%s is only for redis+sentinel://", k)
			}
			if k == "sentinel_username" {
				o.SentinelUsername = v
			} else {
				o.SentinelPassword = v
			}
		case "skip_verify":
			if !tlsOn {
				return cfg, errors.New("skip_verify needs rediss")
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return cfg, fmt.Errorf("%s: %w", k, err)
			}
			o.TLSConfig.InsecureSkipVerify = b
		default:
			return cfg, fmt.Errorf("unknown option %q", k)
		}
	}
	return cfg, nil
}

package secrets

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// benchFile is one generated file of the benchmark tree.
type benchFile struct {
	path string
	text []byte
}

// Line templates of the generated tree: configuration, source code and
// shell, with the words (token, password, secret, key ...) that real files
// use without holding a secret. %s is a random identifier, %d a number.
var benchTemplates = map[string][]string{
	"yaml": {
		"apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: %s", "  labels:", "    app: %s",
		"spec:", "  replicas: %d", "      containers:", "        - name: %s", "          image: registry.example.com/%s:%d",
		"          env:", "            - name: DB_PASSWORD", "              valueFrom:", "                secretKeyRef:",
		"                  name: %s-secret", "                  key: password", "          ports:", "            - containerPort: %d",
		"  tokenTTL: %dh", "  logLevel: info", "  timeout: %ds",
	},
	"conf": {
		"server {", "    listen %d;", "    server_name %s.example.com;", "    location / {", "        proxy_pass http://%s:%d;",
		"        proxy_set_header Host $host;", "    }", "}", "# password authentication is disabled", "ssl_session_timeout %dm;",
		"max_connections = %d", "shared_buffers = %dMB", "password_encryption = scram-sha-256", "log_line_prefix = '%%m [%%p] '",
	},
	"py": {
		"import os", "from %s import %s", "def %s(self, token, timeout=%d):", "    \"\"\"Return the %s for the given key.\"\"\"",
		"    password = os.environ.get(\"DB_PASSWORD\")", "    if not token:", "        raise ValueError(\"missing token\")",
		"    return self.%s(key=key, secret=secret)", "class %s(object):", "    api_key = None", "    retries = %d",
		"        for i in range(%d):", "            logger.debug(\"%s %%s\", i)",
	},
	"go": {
		"package %s", "import \"context\"", "func (c *Client) %s(ctx context.Context, token string) error {",
		"\tif err := c.%s(ctx); err != nil {", "\t\treturn fmt.Errorf(\"%s: %%w\", err)", "\t}", "\treturn nil", "}",
		"// %s reads the secret key from the keyring.", "\tvar buf [%d]byte", "\tkey := c.cfg.APIKey", "type %s struct {",
		"\tPassword string `json:\"password\"`", "\tTimeout  time.Duration",
	},
	"js": {
		"const %s = require('%s');", "export function %s(token, options = {}) {", "  const secret = process.env.APP_SECRET;",
		"  return fetch(`${baseUrl}/%s`, { headers: { Authorization: `Bearer ${token}` } });", "}", "let %s = %d;",
		"  if (!apiKey) throw new Error('api key required');", "module.exports = { %s };",
	},
	"sh": {
		"#!/bin/sh", "set -eu", "export PATH=/usr/local/bin:$PATH", "if [ -z \"${DB_PASSWORD:-}\" ]; then", "  echo \"%s\" >&2",
		"fi", "exec /usr/local/bin/%s --port %d", "TOKEN=$(cat /run/secrets/token)", "for f in /etc/%s/*.conf; do", "done",
	},
}

// benchTree generates about size bytes of text files.
func benchTree(size int) []benchFile {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("alpha beta gamma delta service handler request response config cache store user account " +
		"session client server worker queue event metric report image layer package version")
	exts := []string{"yaml", "conf", "py", "go", "js", "sh"}
	var files []benchFile
	total := 0
	for total < size {
		ext := exts[len(files)%len(exts)]
		tmpl := benchTemplates[ext]
		var b strings.Builder
		target := 2<<10 + r.IntN(30<<10)
		for b.Len() < target {
			t := tmpl[r.IntN(len(tmpl))]
			args := []any{}
			for i := 0; i < strings.Count(t, "%")-2*strings.Count(t, "%%"); i++ {
				if strings.Contains(t, "%d") && i%2 == 1 || !strings.Contains(t, "%s") {
					args = append(args, r.IntN(10000))
				} else {
					args = append(args, words[r.IntN(len(words))]+words[r.IntN(len(words))])
				}
			}
			fmt.Fprintf(&b, t, args...)
			b.WriteByte('\n')
		}
		files = append(files, benchFile{path: fmt.Sprintf("app/src/f%d.%s", len(files), ext), text: []byte(b.String())})
		total += b.Len()
	}
	return files
}

// BenchmarkAnalyze measures the analyzer over ~50 MB of generated text
// holding no secret, as the layer walk hands it over (files in memory).
func BenchmarkAnalyze(b *testing.B) {
	files := benchTree(50 << 20)
	var size int64
	for _, f := range files {
		size += int64(len(f.text))
	}
	a := Analyzer(Options{})
	ctx := context.Background()
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		var out inventory.LayerResult
		for _, f := range files {
			if err := a.Analyze(ctx, inventory.NewFileBytes(f.path, 0o644, f.text), &out); err != nil {
				b.Fatal(err)
			}
		}
		if len(out.Facts) != 0 {
			b.Fatalf("unexpected hits: %+v", out.Facts[:min(3, len(out.Facts))])
		}
	}
}

// BenchmarkKeywords measures the keyword pass alone.
func BenchmarkKeywords(b *testing.B) {
	files := benchTree(8 << 20)
	var size int64
	for _, f := range files {
		size += int64(len(f.text))
	}
	kw := defaultScanner().kw
	b.SetBytes(size)
	var hits []kwHit
	for b.Loop() {
		for _, f := range files {
			hits = kw.find(f.text, hits[:0])
		}
	}
}

// BenchmarkClaims measures Claims on typical paths.
func BenchmarkClaims(b *testing.B) {
	a := Analyzer(Options{})
	paths := []string{"usr/lib/x86_64-linux-gnu/libc.so.6", "usr/share/doc/bash/README", "app/node_modules/react/index.js",
		"etc/nginx/nginx.conf", "usr/lib/python3.12/site-packages/requests/tests/test_x.py", "usr/bin/bash"}
	for b.Loop() {
		for _, p := range paths {
			a.Claims(p, 0o644, 1000)
		}
	}
}

package checks_test

import (
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vigil-scan/vigil/internal/checks"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/result"
)

const (
	badPasswd = "root:x:0:0:root:/root:/bin/ash\n" +
		"toor:x:0:0:backdoor:/root:/bin/ash\n" +
		"app:x:1000:1000::/home/app:/bin/sh\n" +
		"app:x:1001:1001::/home/app2:/bin/sh\n"
	badShadow = "root::19000:0:::::\napp:!:19000:0:::::\ntoor:!:19000:0:::::\n"
	badGroup  = "root:x:0:root\nwheel:x:10:root\nstaff:x:10:\napp:x:1000:\napp:x:1001:\n"
	// Secret-looking values: none may appear in any alert.
	envSecret   = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	urlSecret   = "hunter2hunter2"
	npmSecret   = "npm_abcdefghijklmnopqrstuvwxyz0123456789"
	buildSecret = "s3cr3t-build-arg"
)

// badSteps exercise every rule.
func badSteps() []imagetest.Step {
	return []imagetest.Step{
		{CreatedBy: "/bin/sh -c #(nop) ADD file:3c4a5f0e7c1d2b9a in / ", Entries: []imagetest.Entry{
			{Name: "etc/passwd", Body: badPasswd},
			{Name: "etc/shadow", Body: badShadow, Mode: 0o640},
			{Name: "etc/group", Body: badGroup},
			{Name: "bin/su", Body: "\x7fELF su", Mode: 0o4755},
			{Name: "usr/bin/wall", Body: "\x7fELF wall", Mode: 0o2755},
			{Name: "usr/bin/passwd", Body: "\x7fELF passwd", Mode: 0o4755},
			{Name: "usr/bin/chfn", Body: "\x7fELF chfn", Mode: 0o4755},
			{Name: "bin/gone", Body: "\x7fELF gone", Mode: 0o6755},
			{Name: "bin/busybox", Body: "\x7fELF busybox", Mode: 0o755},
		}},
		{CreatedBy: `/bin/sh -c #(nop)  CMD ["/bin/sh"]`},
		{CreatedBy: "/bin/sh -c #(nop)  ENV AWS_SECRET_ACCESS_KEY=" + envSecret},
		{CreatedBy: "|1 NPM_TOKEN=" + buildSecret + " /bin/sh -c apk add curl git", Entries: []imagetest.Entry{
			{Name: "app/.git/HEAD", Body: "ref: refs/heads/main\n"},
			{Name: "app/.git/config", Body: "[remote \"origin\"]\n\turl = https://deploy:" + urlSecret + "@git.example.com/app.git\n"},
			{Name: "app/.git/objects/ab/cdef", Body: "blob"},
			{Name: "app/.DS_Store", Body: "\x00\x00\x00\x01Bud1"},
			{Name: "root/.npmrc", Body: "//registry.npmjs.org/:_authToken=" + npmSecret + "\n"},
			{Name: "app/credentials.json", Body: "{}"},
			{Name: "app/node_modules/x/.DS_Store", Body: "ignored: a dependency's file"},
		}},
		{CreatedBy: "/bin/sh -c apt-get update && apt-get -y dist-upgrade && apt-get install -y --no-install-recommends ca-certificates", Entries: []imagetest.Entry{
			{Name: "bin/.wh.gone"},
			{Name: "usr/bin/chfn", Body: "\x7fELF chfn", Mode: 0o755}, // chmod a-s
		}},
		{CreatedBy: "RUN /bin/sh -c sudo -u app make install # buildkit", Entries: []imagetest.Entry{{Name: "usr/local/bin/app", Body: "#!/bin/sh", Mode: 0o755}}},
		{CreatedBy: "ADD app.py /app/ # buildkit", Entries: []imagetest.Entry{{Name: "app/app.py", Body: "print()"}}},
		{CreatedBy: "ADD vendor.tar.gz /opt/ # buildkit", Entries: []imagetest.Entry{{Name: "opt/vendor/README", Body: "unpacked"}}},
		{CreatedBy: "/bin/sh -c #(nop)  VOLUME [/proc /data]"},
		{CreatedBy: "/bin/sh -c #(nop)  USER root"},
		{CreatedBy: "/bin/sh -c apt-get update", Entries: []imagetest.Entry{{Name: "var/lib/apt/lists/lock", Body: ""}}},
	}
}

func badConfig() v1.Config {
	return v1.Config{
		User: "root",
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"AWS_SECRET_ACCESS_KEY=" + envSecret,
			"DATABASE_URL=postgres://app:" + urlSecret + "@db:5432/app",
			"GPG_KEY=B42F6819007F00F88E364FD4036A9C25BF357DD4",
			"API_TOKEN_FILE=/run/secrets/token",
			"DB_PASSWORD="},
		Labels:  map[string]string{"org.example.api-token": "tok-" + urlSecret, "maintainer": "someone"},
		Volumes: map[string]struct{}{"/proc": {}, "/data": {}},
		Cmd:     []string{"/bin/sh"},
	}
}

func TestRunViolations(t *testing.T) {
	inv := buildImage(t, badSteps(), badConfig())
	got := byCode(t, checks.Run(inv, checks.Options{Tag: "latest"}))

	want := map[string]struct {
		level  string
		alerts []string
	}{
		"CIS-DI-0001": {result.LevelWarn, []string{"last USER is root: the container runs as root"}},
		"CIS-DI-0005": {result.LevelInfo, []string{"export DOCKER_CONTENT_TRUST=1 before docker pull/build/push"}},
		"CIS-DI-0006": {result.LevelInfo, []string{"no HEALTHCHECK instruction"}},
		"CIS-DI-0007": {result.LevelFatal, []string{"RUN apt-get update (history step 11)"}},
		"CIS-DI-0008": {result.LevelInfo, []string{
			"setuid file: bin/su (mode 4755)",
			"setuid file: usr/bin/passwd (mode 4755)",
			"setgid file: usr/bin/wall (mode 2755)",
		}},
		"CIS-DI-0009": {result.LevelFatal, []string{"ADD app.py /app/ (history step 7)"}},
		"CIS-DI-0010": {result.LevelFatal, []string{
			"suspicious ENV key found: AWS_SECRET_ACCESS_KEY",
			"ENV DATABASE_URL holds a value that looks like a URL with an embedded password",
			"suspicious LABEL key found: org.example.api-token",
			"suspicious build ARG key found: NPM_TOKEN (history step 4)",
			"app/.git/config: git config stores a credential: URL with password (line 2)",
			"app/credentials.json: suspicious file name",
			"root/.npmrc: npm config stores a credential: //registry.npmjs.org/:_authToken (line 1)",
		}},
		"DKL-DI-0001": {result.LevelFatal, []string{"RUN sudo -u app make install (history step 6)"}},
		"DKL-DI-0002": {result.LevelFatal, []string{"VOLUME /proc"}},
		"DKL-DI-0003": {result.LevelWarn, []string{"RUN apt-get update && apt-get -y dist-upgrade && apt-get install -y --no-install-recommends ca-certificates (history step 5)"}},
		"DKL-DI-0004": {result.LevelFatal, []string{"RUN apk add curl git (history step 4)"}},
		"DKL-DI-0005": {result.LevelFatal, []string{
			"RUN apt-get update && apt-get -y dist-upgrade && apt-get install -y --no-install-recommends ca-certificates (history step 5)",
			"RUN apt-get update (history step 11)",
		}},
		"DKL-DI-0006": {result.LevelWarn, []string{"the image is referenced by the tag latest"}},
		"DKL-LI-0001": {result.LevelFatal, []string{"user root has an empty password (etc/shadow line 1)"}},
		"DKL-LI-0002": {result.LevelFatal, []string{
			"duplicate UID 0: users root, toor (etc/passwd)",
			"duplicate user name app (etc/passwd)",
			"duplicate GID 10: groups wheel, staff (etc/group)",
			"duplicate group name app (etc/group)",
		}},
		"DKL-LI-0003": {result.LevelInfo, []string{
			"app/.DS_Store: unneeded file",
			"app/.git: unneeded directory",
			"root/.npmrc: npm config with a stored credential",
		}},
	}
	for _, r := range checks.Rules() {
		w, ok := want[r.Code]
		if !ok {
			t.Errorf("rule %s has no expectation", r.Code)
			continue
		}
		g := got[r.Code]
		if g.Level != w.level || !slices.Equal(g.Alerts, w.alerts) {
			t.Errorf("%s: got %s %q\nwant %s %q", r.Code, g.Level, g.Alerts, w.level, w.alerts)
		}
		if g.Title != r.Title {
			t.Errorf("%s: title %q, want %q", r.Code, g.Title, r.Title)
		}
	}
	for _, r := range got {
		for _, a := range r.Alerts {
			for _, secret := range []string{envSecret, urlSecret, npmSecret, buildSecret} {
				if strings.Contains(a, secret) {
					t.Errorf("%s alert leaks a secret value: %q", r.Code, a)
				}
			}
		}
	}
	for _, f := range inv.Files {
		for _, secret := range []string{urlSecret, npmSecret} {
			if strings.Contains(f.Detail, secret) {
				t.Errorf("fact %s %s leaks a secret value", f.Kind, f.Path)
			}
		}
	}
}

func TestRunClean(t *testing.T) {
	steps := []imagetest.Step{
		{CreatedBy: "/bin/sh -c #(nop) ADD file:0f2e9d8c7b6a in / ", Entries: []imagetest.Entry{
			{Name: "etc/passwd", Body: "root:x:0:0:root:/root:/bin/ash\napp:x:10001:10001::/home/app:/sbin/nologin\n"},
			{Name: "etc/shadow", Body: "root:!::0:::::\napp:!::0:::::\n", Mode: 0o640},
			{Name: "etc/group", Body: "root:x:0:root\napp:x:10001:\n"},
			{Name: "bin/busybox", Body: "\x7fELF", Mode: 0o755},
		}},
		{CreatedBy: `/bin/sh -c #(nop)  CMD ["/bin/sh"]`},
		{CreatedBy: "RUN /bin/sh -c apk add --no-cache curl && apk --no-cache add -t .build-deps gcc # buildkit", Entries: []imagetest.Entry{{Name: "usr/bin/curl", Body: "\x7fELF", Mode: 0o755}}},
		{CreatedBy: "RUN |1 VERSION=1.2.3 /bin/sh -c apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/* # buildkit",
			Entries: []imagetest.Entry{{Name: "usr/bin/tini", Body: "\x7fELF", Mode: 0o755}}},
		{CreatedBy: "COPY app /app # buildkit", Entries: []imagetest.Entry{{Name: "app/main", Body: "\x7fELF", Mode: 0o755}}},
		{CreatedBy: "ENV APP_HOME=/app GPG_KEY=B42F6819007F00F88E364FD4036A9C25BF357DD4"},
		{CreatedBy: "HEALTHCHECK &{[\"CMD\" \"/app/main\" \"-health\"] \"30s\" \"5s\" \"0s\" \"0s\" '\\x03'}"},
		{CreatedBy: "USER 10001"},
	}
	cfg := v1.Config{
		User:        "10001",
		Env:         []string{"PATH=/usr/bin:/bin", "APP_HOME=/app", "GPG_KEY=B42F6819007F00F88E364FD4036A9C25BF357DD4"},
		Volumes:     map[string]struct{}{"/data": {}},
		Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/app/main", "-health"}},
		Entrypoint:  []string{"/app/main"},
	}
	inv := buildImage(t, steps, cfg)
	results := checks.Run(inv, checks.Options{Tag: "1.0", ContentTrust: true})
	if len(results) != len(checks.Rules()) {
		t.Fatalf("%d results for %d rules", len(results), len(checks.Rules()))
	}
	for i, r := range results {
		if r.Code != checks.Rules()[i].Code {
			t.Errorf("result %d is %s, want %s (Rules order)", i, r.Code, checks.Rules()[i].Code)
		}
		if r.Level != result.LevelPass || len(r.Alerts) != 0 {
			t.Errorf("%s: %s %q, want PASS", r.Code, r.Level, r.Alerts)
		}
	}
}

func TestRunIgnore(t *testing.T) {
	inv := buildImage(t, badSteps(), badConfig())
	got := byCode(t, checks.Run(inv, checks.Options{Ignore: []string{"cis-di-0001", " DKL-LI-0003"}}))
	for _, code := range []string{"CIS-DI-0001", "DKL-LI-0003"} {
		if _, ok := got[code]; ok {
			t.Errorf("%s reported though ignored", code)
		}
	}
	if len(got) != len(checks.Rules())-2 {
		t.Errorf("%d results, want %d", len(got), len(checks.Rules())-2)
	}
	if got["DKL-DI-0006"].Level != result.LevelPass {
		t.Errorf("DKL-DI-0006 without a tag: %s", got["DKL-DI-0006"].Level)
	}
}

func TestRunAcceptKeys(t *testing.T) {
	inv := buildImage(t, badSteps(), badConfig())
	got := byCode(t, checks.Run(inv, checks.Options{AcceptKeys: []string{"aws_secret_access_key", "NPM_TOKEN", "DATABASE_URL", "org.example.api-token"}}))
	for _, a := range got["CIS-DI-0010"].Alerts {
		if strings.Contains(a, "AWS_SECRET") || strings.Contains(a, "NPM_TOKEN") || strings.Contains(a, "DATABASE_URL") || strings.Contains(a, "api-token") {
			t.Errorf("accepted key still reported: %q", a)
		}
	}
}

// A USER name that maps to UID 0 is root too; a numeric non-zero USER is not.
func TestRootUserByUID(t *testing.T) {
	steps := []imagetest.Step{{CreatedBy: "/bin/sh -c #(nop) ADD file:ab in / ", Entries: []imagetest.Entry{
		{Name: "etc/passwd", Body: "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n"},
	}}}
	for user, want := range map[string]string{"toor": result.LevelWarn, "0:0": result.LevelWarn, "root:wheel": result.LevelWarn,
		"": result.LevelWarn, "1000": result.LevelPass, "nobody:nogroup": result.LevelPass} {
		inv := buildImage(t, steps, v1.Config{User: user})
		if got := byCode(t, checks.Run(inv, checks.Options{}))["CIS-DI-0001"].Level; got != want {
			t.Errorf("USER %q: %s, want %s", user, got, want)
		}
	}
}

func TestHealthcheckNone(t *testing.T) {
	inv := buildImage(t, []imagetest.Step{{CreatedBy: "ADD rootfs.tar / # buildkit", Entries: []imagetest.Entry{{Name: "x", Body: "x"}}}},
		v1.Config{Healthcheck: &v1.HealthConfig{Test: []string{"NONE"}}})
	r := byCode(t, checks.Run(inv, checks.Options{}))["CIS-DI-0006"]
	if r.Level != result.LevelInfo || !slices.Equal(r.Alerts, []string{"HEALTHCHECK NONE disables the health check"}) {
		t.Errorf("HEALTHCHECK NONE: %s %q", r.Level, r.Alerts)
	}
}

// Facts follow the merged filesystem: a setuid file deleted by a whiteout,
// hidden by an opaque directory, or replaced without the bit in a later
// layer is not reported; the top-most etc/passwd is the one checked.
func TestLayerSemantics(t *testing.T) {
	steps := []imagetest.Step{
		{CreatedBy: "/bin/sh -c #(nop) ADD file:aa in / ", Entries: []imagetest.Entry{
			{Name: "etc/passwd", Body: "root:x:0:0::/root:/bin/sh\n"},
			{Name: "bin/removed", Body: "x", Mode: 0o4755},
			{Name: "opt/tool/hidden", Body: "x", Mode: 0o4755},
			{Name: "bin/chmodded", Body: "x", Mode: 0o4755},
			{Name: "bin/kept", Body: "x", Mode: 0o2711},
			{Name: "bin/linked", Typeflag: '1', Link: "bin/kept", Mode: 0o2711},
		}},
		{CreatedBy: "/bin/sh -c rm /bin/removed && rm -rf /opt/tool && mkdir /opt/tool && chmod a-s /bin/chmodded", Entries: []imagetest.Entry{
			{Name: "bin/.wh.removed"},
			{Name: "opt/tool/.wh..wh..opq"},
			{Name: "bin/chmodded", Body: "x", Mode: 0o755},
		}},
		{CreatedBy: "/bin/sh -c adduser -u 0 -D toor", Entries: []imagetest.Entry{
			{Name: "etc/passwd", Body: "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/home/toor:/bin/sh\n"},
		}},
	}
	inv := buildImage(t, steps, v1.Config{User: "1000"})
	got := byCode(t, checks.Run(inv, checks.Options{}))
	if r := got["CIS-DI-0008"]; !slices.Equal(r.Alerts, []string{"setgid file: bin/kept (mode 2711)", "setgid file: bin/linked (mode 2711)"}) {
		t.Errorf("CIS-DI-0008: %s %q", r.Level, r.Alerts)
	}
	if r := got["DKL-LI-0002"]; !slices.Equal(r.Alerts, []string{"duplicate UID 0: users root, toor (etc/passwd)"}) {
		t.Errorf("DKL-LI-0002: %s %q", r.Level, r.Alerts)
	}
	for _, f := range inv.Files {
		if f.Kind == checks.FactSetgid && f.Layer == nil {
			t.Errorf("fact %s has no layer attribution", f.Path)
		}
	}
}

// A malformed account file is kept and checked, and the walk reports the
// bad line as a warning naming the file and line.
func TestMalformedAccountsWarn(t *testing.T) {
	steps := []imagetest.Step{{CreatedBy: "/bin/sh -c #(nop) ADD file:aa in / ", Entries: []imagetest.Entry{
		{Name: "etc/passwd", Body: "root:x:0:0::/root:/bin/sh\ngarbage\nroot2:x:0:0::/:/bin/sh\n"},
	}}}
	inv := buildImage(t, steps, v1.Config{User: "1"})
	found := false
	for _, w := range inv.Warnings {
		if strings.Contains(w, "etc/passwd:2: 1 colon-separated fields, want 7") {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning for the malformed line: %q", inv.Warnings)
	}
	if r := byCode(t, checks.Run(inv, checks.Options{}))["DKL-LI-0002"]; r.Level != result.LevelFatal {
		t.Errorf("DKL-LI-0002 on a partly malformed passwd: %s", r.Level)
	}
}

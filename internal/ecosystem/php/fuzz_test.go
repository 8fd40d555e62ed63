package php

import "testing"

func FuzzComposerInstalled(f *testing.F) {
	f.Add([]byte(`[{"name":"a/b","version":"1.0.0","version_normalized":"1.0.0.0","license":["MIT"]}]`))
	f.Add([]byte(`{"packages":[{"name":"a/b","version":"v1","license":"MIT"}],"dev":true,"dev-package-names":["a/b"]}`))
	f.Fuzz(func(t *testing.T, content []byte) {
		pkgs, err := parseInstalled("vendor/composer/installed.json", content)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.PURL == "" {
				t.Fatalf("incomplete package %+v", p)
			}
		}
	})
}

func FuzzComposerLock(f *testing.F) {
	f.Add([]byte(`{"content-hash":"x","packages":[{"name":"a/b","version":"1.0.0"}],"packages-dev":[{"name":"c","version":"2"}]}`))
	f.Fuzz(func(t *testing.T, content []byte) {
		pkgs, err := parseLock("composer.lock", content)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.PURL == "" {
				t.Fatalf("incomplete package %+v", p)
			}
		}
	})
}

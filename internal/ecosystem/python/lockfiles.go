package python

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// pipfileLock is Pipenv's lockfile: "default" and "develop" sections map
// names to {"version": "==1.2.3"}.
type pipfileLock struct {
	Meta    *json.RawMessage            `json:"_meta"`
	Default map[string]pipfileLockEntry `json:"default"`
	Develop map[string]pipfileLockEntry `json:"develop"`
}

type pipfileLockEntry struct {
	Version string `json:"version"`
}

func parsePipfileLock(path string, content []byte) ([]inventory.Package, error) {
	var lock pipfileLock
	if err := json.Unmarshal(content, &lock); err != nil {
		return nil, err
	}
	if lock.Meta == nil && lock.Default == nil && lock.Develop == nil {
		return nil, errors.New("no _meta, default or develop section: not a Pipfile.lock")
	}
	c := newCollector(path)
	for _, section := range []struct {
		entries map[string]pipfileLockEntry
		dev     bool
	}{{lock.Default, false}, {lock.Develop, true}} {
		for name, e := range section.entries {
			// Git and path dependencies have no version and are skipped.
			version, ok := strings.CutPrefix(e.Version, "==")
			if !ok {
				continue
			}
			if err := c.add(name, strings.TrimPrefix(version, "="), section.dev); err != nil {
				return nil, err
			}
		}
	}
	return c.packages(), nil
}

// poetryLock is Poetry's lockfile. Lock format 1.x marks development
// packages with category = "dev"; format 2.x no longer records it.
type poetryLock struct {
	Package []struct {
		Name     string `toml:"name"`
		Version  string `toml:"version"`
		Category string `toml:"category"`
	} `toml:"package"`
	Metadata map[string]any `toml:"metadata"`
}

func parsePoetryLock(path string, content []byte) ([]inventory.Package, error) {
	var lock poetryLock
	if _, err := toml.Decode(string(content), &lock); err != nil {
		return nil, err
	}
	if lock.Package == nil && lock.Metadata == nil {
		return nil, errors.New("no [[package]] or [metadata]: not a poetry.lock")
	}
	c := newCollector(path)
	for _, p := range lock.Package {
		if err := c.add(p.Name, p.Version, p.Category == "dev"); err != nil {
			return nil, err
		}
	}
	return c.packages(), nil
}

package policy

import (
	"fmt"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// KindOSPackage suppresses the language-advisory findings of a package an
// OS package installed (inventory.Package.Owner): the distribution patches
// such files in place without changing the upstream version they declare,
// so only its own advisories, matched against the OS package, are right.
const KindOSPackage = "os-package"

// SuppressOwned marks the findings of OS-owned language packages
// suppressed with KindOSPackage, naming the owner. It runs before the
// exception rules, which keep an existing suppression.
func SuppressOwned(r *result.Report) {
	type key struct{ typ, path, name, version string }
	owners := map[key]*inventory.Owner{}
	for _, p := range r.Packages {
		if p.Owner != nil && !p.IsOS() {
			owners[key{p.Type, p.Path, p.Name, p.Version}] = p.Owner
		}
	}
	if len(owners) == 0 {
		return
	}
	for i := range r.Vulnerabilities {
		f := &r.Vulnerabilities[i]
		o := owners[key{f.Package.Type, f.Package.Path, f.Package.Name, f.Package.Version}]
		if f.Suppressed != nil || o == nil {
			continue
		}
		f.Suppressed = &vuln.Suppression{
			Kind:   KindOSPackage,
			Rule:   o.Type + ":" + o.Name,
			Reason: fmt.Sprintf("installed by the %s package %s: its distribution's advisories apply", o.Type, o.Name),
			Owner:  &inventory.Owner{Type: o.Type, Name: o.Name},
		}
	}
}

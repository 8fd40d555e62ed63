package match

import (
	"fmt"
	"strings"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// remediation is the command or step that installs the fixed version, in
// the package manager's own words.
func remediation(p *inventory.Package, group []unit, fixed string) string {
	eco := ecosystem.Base(p.Ecosystem)
	switch p.Type {
	case inventory.TypeApk:
		return fmt.Sprintf("apk add --upgrade %s=%s", p.Name, fixed)
	case inventory.TypeDeb:
		// Debian fixes are source versions; the binary version can differ
		// (binNMU), so pin only when they agree.
		if p.Source != nil && p.Source.Version != "" && p.Source.Version != p.Version {
			return fmt.Sprintf("apt-get install --only-upgrade %s (source %s fixed in %s)", p.Name, p.Source.Name, fixed)
		}
		return fmt.Sprintf("apt-get install --only-upgrade %s=%s", p.Name, fixed)
	case inventory.TypeRPM:
		if usesYum(p.Ecosystem) {
			return fmt.Sprintf("yum update %s-%s", p.Name, fixed)
		}
		return fmt.Sprintf("dnf upgrade %s-%s", p.Name, fixed)
	}
	switch eco {
	case ecosystem.Go:
		if isGoStdlib(group) {
			return fmt.Sprintf("upgrade Go toolchain to go%s and rebuild", strings.TrimPrefix(strings.TrimPrefix(fixed, "go"), "v"))
		}
		if !strings.HasPrefix(fixed, "v") {
			fixed = "v" + fixed
		}
		return fmt.Sprintf("go get %s@%s", p.Name, fixed)
	case ecosystem.PyPI:
		return fmt.Sprintf("pip install '%s>=%s'", p.Name, fixed)
	case ecosystem.NPM:
		return fmt.Sprintf("npm install %s@%s", p.Name, fixed)
	case ecosystem.CratesIO:
		return fmt.Sprintf("cargo update -p %s --precise %s", p.Name, fixed)
	case ecosystem.Maven:
		return fmt.Sprintf("bump %s to %s", p.Name, fixed)
	case ecosystem.RubyGems:
		return fmt.Sprintf("gem update %s (fixed in %s)", p.Name, fixed)
	case ecosystem.Packagist:
		return fmt.Sprintf("composer require %s:^%s", p.Name, fixed)
	case ecosystem.NuGet:
		return fmt.Sprintf("dotnet add package %s --version %s", p.Name, fixed)
	case ecosystem.Hex:
		return fmt.Sprintf("mix deps.update %s (fixed in %s)", p.Name, fixed)
	case ecosystem.Pub:
		return fmt.Sprintf("dart pub upgrade %s (fixed in %s)", p.Name, fixed)
	}
	return fmt.Sprintf("upgrade %s to %s", p.Name, fixed)
}

func isGoStdlib(group []unit) bool {
	for _, u := range group {
		if n := u.hit.rec.Package; n == "stdlib" || n == "toolchain" {
			return true
		}
	}
	return false
}

// usesYum reports releases whose package manager is yum, not dnf.
func usesYum(eco string) bool {
	base, rel := ecosystem.Base(eco), ecosystem.Release(eco)
	switch {
	case base == "Amazon Linux" && (rel == "2" || rel == "1"):
		return true
	case strings.HasPrefix(rel, "7") || strings.HasPrefix(rel, "6"):
		return base != "Amazon Linux"
	}
	return false
}

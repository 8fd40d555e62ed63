package checks

import "strings"

// Options of package managers that take a separate value, so the value is
// not mistaken for the subcommand.
var (
	aptValued = map[string]bool{"-o": true, "-c": true, "-t": true, "--option": true, "--config-file": true,
		"--target-release": true, "--default-release": true}
	apkValued = map[string]bool{"-X": true, "--repository": true, "-p": true, "--root": true, "--arch": true,
		"--cache-dir": true, "--keys-dir": true, "--repositories-file": true, "-t": true, "--virtual": true,
		"--cache-max-age": true, "--timeout": true}
	yumValued = map[string]bool{"-c": true, "--config": true, "-x": true, "--exclude": true, "--installroot": true,
		"--releasever": true, "-d": true, "--debuglevel": true, "-e": true, "--errorlevel": true, "--repo": true,
		"--repoid": true, "--enablerepo": true, "--disablerepo": true, "--setopt": true}
	zypperValued = map[string]bool{"-R": true, "--root": true, "-c": true, "--config": true, "-r": true, "--repo": true}
)

func isApt(name string) bool { return name == "apt-get" || name == "apt" || name == "aptitude" }

// runSteps calls fn with each RUN step and its commands.
func (in *input) runSteps(fn func(step, []command)) {
	for _, s := range in.steps {
		if s.Instruction == "RUN" {
			fn(s, s.Commands)
		}
	}
}

func alertFor(s step) string { return s.Display() + " (" + s.Where() + ")" }

// checkUpdateAlone: apt-get update with no install or upgrade after it in
// the same step.
func checkUpdateAlone(in *input) outcome {
	if in.config == nil {
		return skipped(noConfig)
	}
	var o outcome
	in.runSteps(func(s step, cmds []command) {
		updated := false
		for _, c := range cmds {
			if !isApt(c.Name) {
				continue
			}
			switch sub, _ := subcommand(c.Args, aptValued); sub {
			case "update":
				updated = true
			case "install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "reinstall":
				if updated {
					return
				}
			}
		}
		if updated {
			o.alerts = append(o.alerts, alertFor(s))
		}
	})
	return o
}

// checkAdd: ADD steps of the image itself. The first layer's ADD (the root
// filesystem of a FROM scratch image, as Dockle), base image steps, and
// BuildKit ADDs of local tar archives are not reported.
func checkAdd(in *input) outcome {
	if in.config == nil {
		return skipped(noConfig)
	}
	first := firstLayerStep(in.config)
	var o outcome
	for i, s := range in.steps {
		if s.Instruction != "ADD" || s.Base || i == first {
			continue
		}
		if srcs := addSources(s.Args); len(srcs) > 0 && allArchives(srcs) {
			continue
		}
		o.alerts = append(o.alerts, alertFor(s))
	}
	return o
}

func allArchives(srcs []string) bool {
	for _, s := range srcs {
		if !isLocalArchive(s) {
			return false
		}
	}
	return true
}

// checkUpgrade: whole-system upgrades.
func checkUpgrade(in *input) outcome {
	if in.config == nil {
		return skipped(noConfig)
	}
	var o outcome
	in.runSteps(func(s step, cmds []command) {
		for _, c := range cmds {
			if isUpgrade(c) {
				o.alerts = append(o.alerts, alertFor(s))
				return
			}
		}
	})
	return o
}

// isUpgrade reports whether c upgrades every installed package.
func isUpgrade(c command) bool {
	switch {
	case isApt(c.Name):
		sub, _ := subcommand(c.Args, aptValued)
		return sub == "upgrade" || sub == "dist-upgrade" || sub == "full-upgrade" || sub == "safe-upgrade"
	case c.Name == "apk":
		sub, rest := subcommand(c.Args, apkValued)
		return sub == "upgrade" && len(operands(rest)) == 0
	case c.Name == "yum" || c.Name == "dnf" || c.Name == "microdnf" || c.Name == "tdnf":
		sub, rest := subcommand(c.Args, yumValued)
		switch sub {
		case "update", "upgrade", "distro-sync", "upgrade-minimal", "update-minimal":
			return len(operands(rest)) == 0
		}
	case c.Name == "zypper":
		sub, rest := subcommand(c.Args, zypperValued)
		switch sub {
		case "update", "up", "dist-upgrade", "dup", "patch":
			return len(operands(rest)) == 0
		}
	}
	return false
}

// checkApkCache: apk add without --no-cache, unless the step removes
// /var/cache/apk itself.
func checkApkCache(in *input) outcome {
	if in.config == nil {
		return skipped(noConfig)
	}
	var o outcome
	in.runSteps(func(s step, cmds []command) {
		for i, c := range cmds {
			if c.Name != "apk" || hasArg(c.Args, "--no-cache") {
				continue
			}
			if sub, _ := subcommand(c.Args, apkValued); sub != "add" {
				continue
			}
			if !removes(cmds[i+1:], "/var/cache/apk") {
				o.alerts = append(o.alerts, alertFor(s))
				return
			}
		}
	})
	return o
}

// checkAptLists: apt-get update/install without removing the package
// lists later in the same step.
func checkAptLists(in *input) outcome {
	if in.config == nil {
		return skipped(noConfig)
	}
	var o outcome
	in.runSteps(func(s step, cmds []command) {
		last := -1 // the last apt command that fills the lists or caches
		for i, c := range cmds {
			if !isApt(c.Name) {
				continue
			}
			switch sub, _ := subcommand(c.Args, aptValued); sub {
			case "update", "install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "reinstall":
				last = i
			}
		}
		if last >= 0 && !removes(cmds[last+1:], "/var/lib/apt/lists") {
			o.alerts = append(o.alerts, alertFor(s))
		}
	})
	return o
}

// removes reports whether a command among cmds deletes dir or its content
// (rm, or find ... -delete).
func removes(cmds []command, dir string) bool {
	for _, c := range cmds {
		if c.Name != "rm" && !(c.Name == "find" && hasArg(c.Args, "-delete")) {
			continue
		}
		for _, a := range operands(c.Args) {
			a = strings.TrimSuffix(strings.TrimRight(a, "*"), "/")
			if a == dir || strings.HasPrefix(a, dir+"/") {
				return true
			}
		}
	}
	return false
}

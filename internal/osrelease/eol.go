package osrelease

import (
	"time"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// EndOfLife is when a distribution release stopped receiving security
// fixes and advisories from its vendor.
type EndOfLife struct {
	// Date is the first day without support.
	Date time.Time
	// Source cites where the date comes from.
	Source string
}

// Sources of the end-of-life table, as checked on eolTableChecked.
const (
	eolSourceAlpine = "https://alpinelinux.org/releases/"
	eolSourceDebian = "https://wiki.debian.org/LTS"
	eolSourceRHEL   = "https://access.redhat.com/support/policy/updates/errata"
	eolSourceCentOS = "https://www.centos.org/centos-linux-eol/"
	eolSourceAlma   = "https://wiki.almalinux.org/release-notes/"
	eolSourceAmazon = "https://aws.amazon.com/amazon-linux-2/faqs/"
)

// eolTableChecked is when the table was last compared with its sources.
// Releases newer than the table have no entry and are never called
// end-of-life; add a row when a release's date is announced.
const eolTableChecked = "2026-12-06"

// endOfLife maps an os-release ID and the release key (what releaseKey
// returns) to the end of its security support. Debian counts its LTS
// period: the tracker keeps publishing DLAs for those releases, and the DB
// imports them. Red Hat family: end of maintenance support (the last
// security errata without an extended-support subscription).
var endOfLife = map[string]map[string]string{
	"alpine": {
		"3.3": "2017-11-01", "3.4": "2018-05-01", "3.5": "2018-11-01", "3.6": "2019-05-01",
		"3.7": "2019-11-01", "3.8": "2020-05-01", "3.9": "2020-11-01", "3.10": "2021-05-01",
		"3.11": "2021-11-01", "3.12": "2022-05-01", "3.13": "2022-11-01", "3.14": "2023-05-01",
		"3.15": "2023-11-01", "3.16": "2024-05-23", "3.17": "2024-11-22", "3.18": "2025-05-09",
		"3.19": "2025-11-01", "3.20": "2026-04-01", "3.21": "2026-11-01", "3.22": "2027-05-01",
		"3.23": "2027-11-01",
	},
	"debian": {
		"4": "2010-02-15", "5": "2012-02-06", "6": "2016-02-29", "7": "2018-05-31",
		"8": "2020-06-30", "9": "2022-06-30", "10": "2024-06-30", "11": "2026-08-31",
		"12": "2028-06-30",
	},
	"rhel":      {"6": "2020-11-30", "7": "2024-06-30", "8": "2029-05-31", "9": "2032-05-31"},
	"centos":    {"6": "2020-11-30", "7": "2024-06-30", "8": "2021-12-31"},
	"almalinux": {"8": "2029-03-01", "9": "2032-05-31"},
	"amzn":      {"2": "2026-06-30"},
}

var eolSources = map[string]string{
	"alpine": eolSourceAlpine, "debian": eolSourceDebian, "rhel": eolSourceRHEL,
	"centos": eolSourceCentOS, "almalinux": eolSourceAlma, "amzn": eolSourceAmazon,
}

// releaseKey is the part of the version a distribution's support is
// announced for: major.minor for Alpine, the major elsewhere.
func releaseKey(o inventory.OS) string {
	if o.Family == "alpine" {
		return majorMinor(o.Version)
	}
	return major(o.Version)
}

// LookupEndOfLife returns the end of security support of the OS's release
// when the table knows it.
func LookupEndOfLife(o inventory.OS) (EndOfLife, bool) {
	date, ok := endOfLife[o.Family][releaseKey(o)]
	if !ok {
		return EndOfLife{}, false
	}
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return EndOfLife{}, false
	}
	return EndOfLife{Date: t, Source: eolSources[o.Family] + " (checked " + eolTableChecked + ")"}, true
}

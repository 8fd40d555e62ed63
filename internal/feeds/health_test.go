package feeds

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// TestUpdateAllFailedKeepsPreviousDB: an update in which every feed fails
// (the mirror is down) leaves the previous DB byte for byte.
func TestUpdateAllFailedKeepsPreviousDB(t *testing.T) {
	u := testUpdater(t, corpus.Path(t, "feeds"))
	if _, err := u.Update(context.Background(), []string{"osv/crates.io", "kev"}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(u.Config.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer srv.Close()
	u.Config.Mirror = srv.URL
	u.Fetcher.Attempts = 1
	res, err := u.Update(context.Background(), []string{"osv/crates.io", "kev"})
	if !errors.Is(err, ErrNothingFetched) || !strings.Contains(err.Error(), "left as it was") {
		t.Fatalf("every feed failed: %v", err)
	}
	if fr := resultOf(t, res, "kev"); fr.Status != StatusKept {
		t.Errorf("kev: %+v", fr)
	}
	after, err := os.ReadFile(u.Config.DBPath)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the previous DB was replaced (%v)", err)
	}
}

// TestCheckDB: the rules a scan applies to a DB before trusting it.
func TestCheckDB(t *testing.T) {
	feedsDir := corpus.Path(t, "feeds")
	ctx := context.Background()
	open := func(t *testing.T, u *Updater) *vulndb.DB {
		t.Helper()
		db, err := vulndb.Open(u.Config.DBPath)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}

	t.Run("complete", func(t *testing.T) {
		u := testUpdater(t, feedsDir)
		if _, err := u.Update(ctx, nil); err != nil {
			t.Fatal(err)
		}
		notes, err := CheckDB(ctx, u.Config, open(t, u))
		if err != nil || len(notes) != 0 {
			t.Fatalf("corpus DB: %v %v", notes, err)
		}
	})

	t.Run("configured feed never imported", func(t *testing.T) {
		// Not an error: a prebuilt DB may carry fewer feeds than configured;
		// the scan lists the packages that needed them as no-data.
		u := testUpdater(t, feedsDir)
		if _, err := u.Update(ctx, []string{"osv/crates.io"}); err != nil {
			t.Fatal(err)
		}
		if notes, err := CheckDB(ctx, u.Config, open(t, u)); err != nil || len(notes) != 0 {
			t.Fatalf("partial DB: %v %v", notes, err)
		}
	})

	t.Run("failed feed without data", func(t *testing.T) {
		// osv/Go fails (garbage zip) while crates.io imports: the DB is
		// written, and a scan refuses it.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/Go/all.zip") {
				w.Write([]byte("this is not a zip file"))
				return
			}
			http.ServeFile(w, r, feedsDir+r.URL.Path)
		}))
		defer srv.Close()
		u := testUpdater(t, srv.URL)
		if _, err := u.Update(ctx, []string{"osv/Go", "osv/crates.io"}); err != nil {
			t.Fatal(err)
		}
		_, err := CheckDB(ctx, u.Config, open(t, u))
		if !errors.Is(err, ErrIncompleteDB) || !strings.Contains(err.Error(), "osv/Go (") {
			t.Fatalf("half-failed DB: %v", err)
		}
	})

	t.Run("stale feed", func(t *testing.T) {
		// The scan's configuration: crates.io and KEV, no mirror (so no NVD).
		var cfg config.Config
		cfg.Feeds.OSV.Ecosystems = []string{"crates.io"}
		cfg.Feeds.Alpine.Disabled, cfg.Feeds.Debian.Disabled, cfg.Feeds.EPSS.Disabled = true, true, true
		u := testUpdater(t, feedsDir)
		if _, err := u.Update(ctx, []string{"osv/crates.io", "kev"}); err != nil {
			t.Fatal(err)
		}
		// kev fails now, crates.io is fetched again: kev keeps its rows.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/kev/") {
				w.Write([]byte("{not json"))
				return
			}
			http.ServeFile(w, r, feedsDir+r.URL.Path)
		}))
		defer srv.Close()
		u.Config.Mirror = srv.URL
		if _, err := u.Update(ctx, []string{"osv/crates.io", "kev"}); err != nil {
			t.Fatal(err)
		}
		notes, err := CheckDB(ctx, cfg, open(t, u))
		if err != nil || len(notes) != 1 || notes[0].Target != "kev" || notes[0].Reason != result.NotJudgedStaleFeed {
			t.Fatalf("stale kev: %+v %v", notes, err)
		}
	})
}

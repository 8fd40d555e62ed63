package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// ScanTarget is one stored image a scan job reads, with the credentials of
// its registry.
type ScanTarget struct {
	ImageID    int64
	TenantID   int64
	RegistryID string
	Repository string
	Digest     string
	Creds      Credentials
}

// Ref is the registry reference to pull: host/repository@digest.
func (t ScanTarget) Ref() string { return t.Creds.Host + "/" + t.Repository + "@" + t.Digest }

// ScanTargets returns the tenant's images with digest that are not yet
// scanned (or whose analyzer is outdated when force is set), across its
// repositories. A scan job reads the digest once and records the result
// for every one of them: the content is the same.
func (s *Store) ScanTargets(ctx context.Context, tenantID int64, digest string, force bool) ([]ScanTarget, error) {
	q := `SELECT i.id, i.tenant_id, i.registry_id, p.name, i.digest FROM images i JOIN repositories p ON p.id = i.repository_id
		WHERE i.tenant_id = ? AND i.digest = ? AND i.deleted_at IS NULL AND i.registry_id <> ''`
	if !force {
		q += " AND i.status <> 'scanned'"
	}
	rows, err := s.query(ctx, q+" ORDER BY i.id", tenantID, digest)
	if err != nil {
		return nil, err
	}
	var out []ScanTarget
	for rows.Next() {
		var t ScanTarget
		if err := rows.Scan(&t.ImageID, &t.TenantID, &t.RegistryID, &t.Repository, &t.Digest); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Creds, err = s.RegistryCredentials(ctx, out[i].RegistryID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetScanError records a failed scan attempt on the images; final marks
// the image failed (retries exhausted), else it stays pending with the
// error visible.
func (s *Store) SetScanError(ctx context.Context, imageIDs []int64, scanErr error, final bool) error {
	status := StatusPending
	if final {
		status = StatusFailed
	}
	return s.tx(ctx, func(tx *Tx) error {
		for _, id := range imageIDs {
			if _, err := tx.exec(ctx, "UPDATE images SET error = ?, attempts = attempts + 1, status = CASE WHEN status = 'scanned' THEN status ELSE ? END WHERE id = ?",
				truncate(scanErr.Error(), 4000), status, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// IndexKey is the (ecosystem, name) key of the re-evaluation index for a
// package of ecosystem eco: language packages under their OSV ecosystem and
// normalised name, OS packages under "os" (a layer does not know its
// distribution release; the key only has to find candidates).
func IndexKey(eco, name string) (string, string) {
	base := ecosystem.Base(eco)
	switch base {
	case ecosystem.Go, ecosystem.PyPI, ecosystem.NPM, ecosystem.Maven, ecosystem.CratesIO, ecosystem.NuGet,
		ecosystem.RubyGems, ecosystem.Packagist, ecosystem.Hex, ecosystem.Pub:
		return base, ecosystem.NormalizeName(base, name)
	}
	return "os", name
}

// packageKeys are the index keys of a layer's packages: the binary and
// the source package name, as the matcher looks them up.
func packageKeys(pkgs []inventory.Package) [][2]string {
	seen := map[[2]string]bool{}
	var out [][2]string
	add := func(eco, name string) {
		if name == "" {
			return
		}
		e, n := IndexKey(eco, name)
		k := [2]string{e, n}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, p := range pkgs {
		eco := p.Ecosystem
		if p.IsOS() {
			eco = "os"
		}
		add(eco, p.Name)
		if p.Source != nil {
			add(eco, p.Source.Name)
		}
		if ecosystem.Base(eco) == ecosystem.Go && p.Name == "stdlib" {
			add(eco, "toolchain")
		}
	}
	return out
}

// Layer returns a stored layer inventory, or nil when the layer (for this
// analyzer set) is not stored.
func (s *Store) Layer(ctx context.Context, diffID, analyzer string) (*inventory.LayerResult, error) {
	var b []byte
	err := s.queryRow(ctx, "SELECT result FROM layers WHERE diff_id = ? AND analyzer = ?", diffID, analyzer).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeLayer(diffID, b)
}

func decodeLayer(diffID string, b []byte) (*inventory.LayerResult, error) {
	var r inventory.LayerResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("stored layer %s: %w", diffID, err)
	}
	if r.DiffID != diffID {
		return nil, fmt.Errorf("stored layer %s holds %s", diffID, r.DiffID)
	}
	return &r, nil
}

// ScanRecord is what a scan job stores: the image's description and its
// ordered layer inventories (diff IDs verified by the reader).
type ScanRecord struct {
	Analyzer string
	Artifact inventory.Artifact
	Layers   []*inventory.LayerResult
}

// SaveScan stores the layers (each once, whatever number of images share
// it) and makes each image an ordered list of them.
func (s *Store) SaveScan(ctx context.Context, imageIDs []int64, rec ScanRecord) error {
	art := rec.Artifact
	art.Layers = append([]inventory.Layer(nil), art.Layers...)
	artJSON, err := json.Marshal(art)
	if err != nil {
		return err
	}
	encoded := make([][]byte, len(rec.Layers))
	for i, l := range rec.Layers {
		if encoded[i], err = json.Marshal(l); err != nil {
			return err
		}
	}
	now := s.nowMS()
	return s.tx(ctx, func(tx *Tx) error {
		layerIDs := make([]int64, len(rec.Layers))
		for i, l := range rec.Layers {
			res, err := tx.exec(ctx, "INSERT INTO layers (diff_id, analyzer, result, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
				l.DiffID, rec.Analyzer, encoded[i], now)
			if err != nil {
				return err
			}
			inserted, _ := res.RowsAffected()
			if err := tx.queryRow(ctx, "SELECT id FROM layers WHERE diff_id = ? AND analyzer = ?", l.DiffID, rec.Analyzer).Scan(&layerIDs[i]); err != nil {
				return err
			}
			if inserted == 0 {
				continue
			}
			for _, k := range packageKeys(l.Packages) {
				if _, err := tx.exec(ctx, "INSERT INTO layer_packages (ecosystem, name, layer_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", k[0], k[1], layerIDs[i]); err != nil {
					return err
				}
			}
		}
		for _, id := range imageIDs {
			if _, err := tx.exec(ctx, "DELETE FROM image_layers WHERE image_id = ?", id); err != nil {
				return err
			}
			for pos, lid := range layerIDs {
				if _, err := tx.exec(ctx, "INSERT INTO image_layers (image_id, position, layer_id) VALUES (?, ?, ?)", id, pos, lid); err != nil {
					return err
				}
			}
			if _, err := tx.exec(ctx, "UPDATE images SET artifact = ?, analyzer = ?, scanned_at = ?, error = '', attempts = 0 WHERE id = ?",
				string(artJSON), rec.Analyzer, now, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// StoredImage is what re-evaluation needs: the artifact and the layer
// inventories, in order.
type StoredImage struct {
	ImageID  int64
	TenantID int64
	Analyzer string
	Artifact inventory.Artifact
	Layers   []*inventory.LayerResult
}

// LayerCache keeps decoded layers shared by many images during a
// re-evaluation pass, so a base layer is decoded once, not once per image.
type LayerCache interface {
	Get(id int64) (*inventory.LayerResult, bool)
	Put(id int64, l *inventory.LayerResult)
}

// ErrNoInventory is LoadImage's error for an image without a stored
// inventory: one known only from CI publishes, or not scanned yet.
var ErrNoInventory = errors.New("no stored inventory")

// LoadImage reads a scanned image's stored inventory (no registry access).
func (s *Store) LoadImage(ctx context.Context, imageID int64, cache LayerCache) (*StoredImage, error) {
	st := &StoredImage{ImageID: imageID}
	var art string
	err := s.queryRow(ctx, "SELECT tenant_id, analyzer, artifact FROM images WHERE id = ?", imageID).Scan(&st.TenantID, &st.Analyzer, &art)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if art == "" {
		return nil, fmt.Errorf("image %d: %w", imageID, ErrNoInventory)
	}
	if err := json.Unmarshal([]byte(art), &st.Artifact); err != nil {
		return nil, fmt.Errorf("image %d artifact: %w", imageID, err)
	}
	rows, err := s.query(ctx, "SELECT l.id, l.diff_id FROM image_layers il JOIN layers l ON l.id = il.layer_id WHERE il.image_id = ? ORDER BY il.position", imageID)
	if err != nil {
		return nil, err
	}
	type lref struct {
		id     int64
		diffID string
	}
	var refs []lref
	for rows.Next() {
		var r lref
		if err := rows.Scan(&r.id, &r.diffID); err != nil {
			rows.Close()
			return nil, err
		}
		refs = append(refs, r)
	}
	rows.Close()
	for _, r := range refs {
		if cache != nil {
			if l, ok := cache.Get(r.id); ok {
				st.Layers = append(st.Layers, l)
				continue
			}
		}
		var b []byte
		if err := s.queryRow(ctx, "SELECT result FROM layers WHERE id = ?", r.id).Scan(&b); err != nil {
			return nil, err
		}
		l, err := decodeLayer(r.diffID, b)
		if err != nil {
			return nil, err
		}
		if cache != nil {
			cache.Put(r.id, l)
		}
		st.Layers = append(st.Layers, l)
	}
	return st, nil
}

// ImagesWithPackages returns the scanned, not deleted images whose layers
// hold any of the index keys (see IndexKey): the candidates to re-evaluate
// after an advisory change, found through the index, not a table scan.
func (s *Store) ImagesWithPackages(ctx context.Context, keys [][2]string) ([]int64, error) {
	seen := map[int64]bool{}
	var out []int64
	const batch = 200
	for start := 0; start < len(keys); start += batch {
		part := keys[start:min(start+batch, len(keys))]
		var cond []string
		var args []any
		for _, k := range part {
			cond = append(cond, "(lp.ecosystem = ? AND lp.name = ?)")
			args = append(args, k[0], k[1])
		}
		q := `SELECT DISTINCT il.image_id FROM layer_packages lp JOIN image_layers il ON il.layer_id = lp.layer_id
			JOIN images i ON i.id = il.image_id WHERE i.deleted_at IS NULL AND i.status = 'scanned' AND (` + strings.Join(cond, " OR ") + ")"
		rows, err := s.query(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ImagesForDaily returns the scanned images the daily pass re-evaluates:
// pushed since pushedSince, pulled since pulledSince, or running.
func (s *Store) ImagesForDaily(ctx context.Context, pushedSince, pulledSince time.Time) ([]int64, error) {
	return int64s(s.query(ctx, `SELECT i.id FROM images i WHERE i.deleted_at IS NULL AND i.status = 'scanned'
		AND (i.pushed_at >= ? OR i.pulled_at >= ? OR EXISTS (SELECT 1 FROM running_images ri WHERE ri.tenant_id = i.tenant_id AND ri.digest = i.digest))
		ORDER BY i.id`, pushedSince.UnixMilli(), pulledSince.UnixMilli()))
}

package image

import (
	"context"
	"fmt"
)

// openContainerd reads ref from containerd's content store. Not built yet:
// it reports the daemon as unavailable, so a bare reference moves on to
// the next source.
func openContainerd(ctx context.Context, ref string, opts Options) (*Source, error) {
	return nil, fmt.Errorf("containerd:%s: %w: reading from containerd is not supported yet; export it with ctr images export and read the file as oci-archive:PATH", ref, ErrDaemonUnavailable)
}

package hazard

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// MissingImages asks each image's registry whether it serves the reference
// (a HEAD of its manifest, with the credentials docker login keeps), at
// most four at once, and says why for each one it does not; plainHTTP
// speaks HTTP to registries that serve no TLS (a local one). Each one
// missing is an image-missing finding.
func MissingImages(ctx context.Context, refs []string, plainHTTP bool) []Finding {
	var mu sync.Mutex
	missing := map[string]error{}
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := imageExists(ctx, ref, plainHTTP); err != nil {
				mu.Lock()
				missing[ref] = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var out []Finding
	for _, ref := range slices.Sorted(maps.Keys(missing)) {
		out = append(out, finding(ImageMissing, "image %s: its registry does not serve it (%v)", ref, missing[ref]))
	}
	return out
}

func imageExists(ctx context.Context, ref string, plainHTTP bool) error {
	var opts []name.Option
	if plainHTTP {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return fmt.Errorf("not an image reference: %w", err)
	}
	if _, err := remote.Head(r, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return err
	}
	return nil
}

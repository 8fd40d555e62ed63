//go:build vigil_noverify

package image

// A measurement aid, never a release build: with -tags vigil_noverify, no
// layer blob, uncompressed layer content, manifest or config is checked
// against its digest, so bench/verify-cost.sh (MODE=isolate, MODE=callgrind)
// can compare the same commit with and without verification. Registry blobs
// are still hashed by go-containerregistry itself. The verification tests
// fail in this build, as they should.
const verifyContent = false

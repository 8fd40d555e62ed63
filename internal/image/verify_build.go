//go:build !vigil_noverify

package image

// verifyContent is false only in a build with the vigil_noverify tag
// (verify_off.go), which exists to measure what verification costs.
const verifyContent = true

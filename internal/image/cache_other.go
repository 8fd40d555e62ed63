//go:build !unix

package image

// openNoFollow: without O_NOFOLLOW the entry's type is still checked once
// open (a symlink to a regular file is then read, bounded in size).
const openNoFollow = 0

func isSymlinkLoop(error) bool { return false }

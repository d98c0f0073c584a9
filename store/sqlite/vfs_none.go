//go:build !(cgo && linux)

package sqlite

// Without cgo, or elsewhere than Linux, connections use the driver's own
// VFS (vfs_linux.go says what the shim saves).
const sharedMapping = false

func vfsName() (string, error) { return "", nil }

type vfsCounts struct{ MappedReads, WALFlushes, WALBuffered int64 }

func vfsStats() vfsCounts { return vfsCounts{} }

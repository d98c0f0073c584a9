package sqlite

// Exported for the tests of package sqlite_test.
var (
	SharedMapping = sharedMapping
	VFSStats      = vfsStats
)

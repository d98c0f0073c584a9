// Declarations shared by vfs_linux.c and vfs_linux.go.

// LC_VFS_NAME is the name the shim registers under (?vfs= in a DSN).
#define LC_VFS_NAME "leadcycle"

// lc_vfs_register registers the shim over the unix VFS once; it returns an
// SQLite result code.
int lc_vfs_register(void);

// lc_vfs_counts is what the shim has done since the process started.
typedef struct {
	long long mapped_reads; // xRead calls served from a shared mapping
	long long wal_flushes;  // buffered WAL writes written out
	long long wal_buffered; // WAL writes buffered instead of written
} lc_vfs_counts;

void lc_vfs_stats(lc_vfs_counts *out);

package bolt

import "golang.org/x/sys/unix"

const releaseMapped = true

// dropMapped unmaps [data, data+size) of bbolt's read-only shared mapping of the file
// (MADV_DONTNEED: later reads fault the pages in again from the page cache).
func dropMapped(data, size uintptr) {
	if data == 0 || size == 0 {
		return
	}
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, data, size, unix.MADV_DONTNEED)
}

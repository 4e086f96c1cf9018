//go:build !linux

package bolt

const releaseMapped = false

func dropMapped(data, size uintptr) {}

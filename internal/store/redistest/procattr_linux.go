package redistest

import "syscall"

// procAttr makes a started server die with the test binary, even when it is killed
// before its cleanups run.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

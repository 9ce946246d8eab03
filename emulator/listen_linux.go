package emulator

import (
	"net"
	"syscall"
)

// loopbackOnly binds a wildcard socket to the loopback device, so the shared
// listeners accept only connections made over lo (to 127.0.0.0/8, or to the
// host's own addresses from the host itself, which nodeFor then refuses).
func loopbackOnly() (net.ListenConfig, error) {
	// One request per connection: TCP keep-alive would only cost syscalls.
	return net.ListenConfig{KeepAlive: -1, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, "lo")
		})
		if err != nil {
			return err
		}
		return serr
	}}, nil
}

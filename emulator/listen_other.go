//go:build !linux

package emulator

import (
	"errors"
	"net"
)

// loopbackOnly is Linux-only (SO_BINDTODEVICE): elsewhere a shared wildcard
// listener could not be kept off the network, so shared mode is refused.
func loopbackOnly() (net.ListenConfig, error) {
	return net.ListenConfig{}, errors.New("shared listeners need Linux (SO_BINDTODEVICE); use ListenPerMiner")
}

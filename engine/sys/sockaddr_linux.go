package sys

import (
	"encoding/binary"
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// RawSockaddr encodes sa in the kernel's layout, for ops such as io_uring's
// CONNECT that take a raw socket address.
func RawSockaddr(sa Sockaddr) ([]byte, error) {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		var r unix.RawSockaddrInet4
		r.Family = unix.AF_INET
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&r.Port))[:], uint16(a.Port))
		r.Addr = a.Addr
		return unsafe.Slice((*byte)(unsafe.Pointer(&r)), unix.SizeofSockaddrInet4), nil
	case *unix.SockaddrInet6:
		var r unix.RawSockaddrInet6
		r.Family = unix.AF_INET6
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&r.Port))[:], uint16(a.Port))
		r.Addr = a.Addr
		r.Scope_id = a.ZoneId
		return unsafe.Slice((*byte)(unsafe.Pointer(&r)), unix.SizeofSockaddrInet6), nil
	case *unix.SockaddrUnix:
		var r unix.RawSockaddrUnix
		r.Family = unix.AF_UNIX
		if len(a.Name) >= len(r.Path) {
			return nil, errors.New("sys: unix socket path too long")
		}
		for i := 0; i < len(a.Name); i++ {
			r.Path[i] = int8(a.Name[i])
		}
		return unsafe.Slice((*byte)(unsafe.Pointer(&r)), 2+len(a.Name)+1), nil
	}
	return nil, errors.New("sys: unsupported socket address type")
}

// ParseSockaddr decodes a raw socket address written by the kernel. It
// returns nil for families it does not know or a buffer too short.
func ParseSockaddr(b []byte) Sockaddr {
	if len(b) < 2 {
		return nil
	}
	switch binary.NativeEndian.Uint16(b) {
	case unix.AF_INET:
		if len(b) < unix.SizeofSockaddrInet4 {
			return nil
		}
		sa := &unix.SockaddrInet4{Port: int(binary.BigEndian.Uint16(b[2:4]))}
		copy(sa.Addr[:], b[4:8])
		return sa
	case unix.AF_INET6:
		if len(b) < unix.SizeofSockaddrInet6 {
			return nil
		}
		sa := &unix.SockaddrInet6{Port: int(binary.BigEndian.Uint16(b[2:4]))}
		copy(sa.Addr[:], b[8:24])
		sa.ZoneId = binary.NativeEndian.Uint32(b[24:28])
		return sa
	case unix.AF_UNIX:
		p := b[2:]
		for i, c := range p {
			if c == 0 {
				p = p[:i]
				break
			}
		}
		return &unix.SockaddrUnix{Name: string(p)}
	}
	return nil
}

// A client of a litevirt supervisor built on the Go bindings that Debian's
// varlink-go generator (varlink-go-interface-generator) wrote from the
// installed io.litevirt.guest.varlink: test-varlink-go.sh builds and runs
// it. Prints what it learnt, one "key value" line each.
//
//	lvclient SOCKET
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/varlink/go/varlink"
	"iolitevirtguest"
)

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	os.Exit(1)
}

func main() {
	ctx := context.Background()
	c, err := varlink.NewConnection(ctx, "unix:"+os.Args[1])
	if err != nil {
		die("connect", err)
	}
	defer c.Close()

	var interfaces []string
	if err := c.GetInfo(ctx, nil, nil, nil, nil, &interfaces); err != nil {
		die("GetInfo", err)
	}
	fmt.Println("interfaces", interfaces)
	desc, err := c.GetInterfaceDescription(ctx, "io.litevirt.guest")
	if err != nil {
		die("GetInterfaceDescription", err)
	}
	fmt.Println("description-bytes", len(desc))

	name, uuid, typ, _, id, state, _, reason, _, _, _, pid, _, _, _, _, _, _, vcpus, _, mem, _, _, persistent, _, err := iolitevirtguest.Info().Call(ctx, c)
	if err != nil {
		die("Info", err)
	}
	fmt.Println("name", name)
	fmt.Println("uuid", uuid)
	fmt.Println("type", typ)
	fmt.Println("id", id)
	fmt.Println("pid", pid)
	fmt.Println("state", state, reason)
	fmt.Println("vcpus", vcpus)
	fmt.Println("memory_kib", mem)
	fmt.Println("persistent", persistent)

	if err := iolitevirtguest.Suspend().Call(ctx, c); err != nil {
		die("Suspend", err)
	}
	st, _, reason, _, _, err := iolitevirtguest.State().Call(ctx, c)
	if err != nil {
		die("State", err)
	}
	fmt.Println("after-suspend", st, reason)
	if err := iolitevirtguest.Resume().Call(ctx, c); err != nil {
		die("Resume", err)
	}
	st, _, reason, _, _, err = iolitevirtguest.State().Call(ctx, c)
	if err != nil {
		die("State", err)
	}
	fmt.Println("after-resume", st, reason)
	// resuming a running guest: the interface's InvalidState error
	err = iolitevirtguest.Resume().Call(ctx, c)
	if e, ok := err.(*varlink.Error); ok {
		fmt.Println("resume-again-error", e.Name)
	} else if e, ok := err.(*iolitevirtguest.InvalidState); ok {
		fmt.Println("resume-again-error io.litevirt.guest.InvalidState", e.Message)
	} else {
		fmt.Println("resume-again-error", err)
	}
	if err := iolitevirtguest.Destroy().Call(ctx, c); err != nil {
		die("Destroy", err)
	}
	fmt.Println("destroyed")
}

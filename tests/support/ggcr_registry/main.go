// Command ggcr_registry serves go-containerregistry's in-process registry with the OCI 1.1
// referrers API switched on (`crane registry serve` leaves it off), for hullguard's trust and
// mirror tests. Manifests live in memory, blobs on disk under -blobs.
//
// Usage: ggcr_registry -addr 127.0.0.1:PORT -blobs DIR
//
// It exits cleanly (in-flight requests finish) on SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	blobs := flag.String("blobs", "", "directory for blobs (required)")
	flag.Parse()
	if *blobs == "" {
		log.Fatal("-blobs DIR is required")
	}
	if err := os.MkdirAll(*blobs, 0o755); err != nil {
		log.Fatal(err)
	}
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	handler := registry.New(registry.WithReferrersSupport(true),
		registry.WithBlobHandler(registry.NewDiskBlobHandler(*blobs)))
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	// the tests read the bound address from the first line (a port of 0 picks a free one)
	log.SetFlags(0)
	os.Stdout.WriteString("listening on " + listener.Addr().String() + "\n")
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.Shutdown(ctx)
	}()
	if err := server.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

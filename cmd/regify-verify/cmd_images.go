package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/regify-verify/regify-verify/harness/images"
)

// imagesUsage is the usage of the 'images' command group.
func imagesUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: regify-verify images build [flags]   (regify-verify images build --help for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	fmt.Fprintln(w, "  build     build the MariaDB image and the scratch image of the binary (no registry needed)")
}

// cmdImages builds the lab's images locally (no registry needed) and prints
// their tags.
func cmdImages(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		imagesUsage(e.stdout)
		return errHelp
	}
	if len(args) == 0 || args[0] != "build" {
		imagesUsage(e.stderr)
		return usageError{errors.New("images: want 'images build [--from host|debootstrap] [--mariadb-image REF] [--debian-mirror URL]'")}
	}
	fs := newFlags(e, "images build", "images build [--mariadb-image REF] [--from host|debootstrap] [--debian-mirror URL] [--binary PATH]")
	mariadbImage := fs.String("mariadb-image", "", "use this MariaDB image (e.g. mariadb:11.4 from a registry you can reach) instead of building one")
	mirror := fs.String("debian-mirror", "", "Debian archive for debootstrap (default: $DEBIAN_MIRROR, else the machine's apt sources)")
	binary := fs.String("binary", "", "static regify-verify binary for the scratch image (default: build it with CGO_ENABLED=0)")
	from := fs.String("from", "", "where the MariaDB image's files come from: host (this machine's mariadbd, seconds) or debootstrap (a Debian rootfs, minutes); default $"+images.SourceEnv+", else host when this machine has mariadbd")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("images build: unexpected argument %q", fs.Arg(0))}
	}
	source, err := images.ParseSource(*from)
	if err != nil {
		return usageError{fmt.Errorf("images build: --from: %w", err)}
	}
	cli, err := images.NewDockerClient(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	tag, err := images.EnsureMariaDB(ctx, images.MariaDBOptions{Image: *mariadbImage, Source: source, Mirror: *mirror, Docker: cli, Log: e.log})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "mariadb %s\n", tag)
	btag, err := images.EnsureBinary(ctx, images.BinaryOptions{Binary: *binary, Docker: cli, Log: e.log})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "binary  %s\n", btag)
	return nil
}

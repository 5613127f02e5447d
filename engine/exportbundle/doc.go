// Package exportbundle writes and serves export bundles: one directory per
// export id under a root, holding data files and a manifest.json that lists
// each file's name, size, SHA-256 and content type.
//
// # Atomicity
//
// A reader never sees a partial export. The files of a bundle are written
// into a hidden staging directory, which is the bundle's temporary; Commit
// writes the manifest, syncs every file (in parallel, so the file system
// can commit them together) and the staging directory, renames the staging
// directory to the export id as a whole, and syncs the root directory. A
// bundle is therefore either absent or complete with its manifest, on disk
// as well as in view. Deletion renames a bundle out of sight before
// removing it.
// Staging and trash directories start with a dot, which no valid id does,
// so they can never be named by a request; Open removes the leftovers of a
// process that stopped mid-write.
//
// # Names
//
// Ids and file names are drawn from a strict character set (ValidName) and
// every access goes through an os.Root, so no id or file name can reach
// outside the root, by ".." or by a symbolic link. Files are served only if
// the manifest lists them.
//
// # Retention
//
// Prune keeps at most a number of bundles and removes bundles older than a
// maximum age, oldest first.
//
// A Store is safe for concurrent use within one process. Two processes must
// not share a root.
package exportbundle

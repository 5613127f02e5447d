// Package leakinjecttest runs a test again with one known leak turned on.
//
// Faults are read from LEAKINJECT once per process, so a test that proves
// a leak check catches each of several faults runs itself again in a child
// process per fault: Rerun starts the child, and the child, which finds
// LEAKINJECT set (Fault), runs the check with the fault on.
//
// It imports providers/leakinject and testify; nothing imports it but
// tests of the leakinject build, and has code only in that build.
package leakinjecttest

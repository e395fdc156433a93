module github.com/nfslock/nfslock/examples

go 1.24.0

require github.com/nfslock/nfslock/locker v0.0.0

replace github.com/nfslock/nfslock/locker => ../locker

require github.com/nfslock/nfslock/backend-posix v0.0.0

replace github.com/nfslock/nfslock/backend-posix => ../backend-posix

require github.com/nfslock/nfslock/backend-windows v0.0.0

replace github.com/nfslock/nfslock/backend-windows => ../backend-windows

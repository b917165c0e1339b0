# The guest's first exception: into nesthv, then bounced to the guest kernel.
until exception
info world
until entry
info world
log 2

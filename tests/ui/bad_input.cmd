# Bad input: each gives one clear line, nothing changes, no crash.
frobnicate
break
break nosuch_symbol
break guest:nosuch
break nosuch:kmain
walk 0xzz
x/4q 0x1000
x/4gx
x/2gx 0xffff800000000000
stepi 0
stepi -3
delete 99
delete
until
until nothing
until hypercall no_such_call
watch 0x1000 9
watch 0xffff800000000000
info nothing
log banana
stepi 2

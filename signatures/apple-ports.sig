# apple-ports.sig - port hints.
#
# A port hint names the service of a flow toward an address that is
# already known to be Apple's (by prefix, ASN or a DNS answer for an Apple
# name) when nothing better, such as a TLS server name, says which one.
# Toward any other address a port hint is ignored: these ports are used by
# much else on the internet.

# Apple Push Notifications (Apple's enterprise network list; TCP and UDP
# ports used by Apple software products).
port tcp/5223 push                   # devices to courier.push.apple.com
port tcp/2197 push                   # provider API, alternative to 443
port tcp/2195 push                   # legacy binary provider interface
port tcp/2196 push                   # legacy feedback service

# Network time (time.apple.com and friends).
port udp/123 time

# FaceTime media and relay ports ("If you use FaceTime and iMessage behind
# a firewall": UDP 3478-3497, 16384-16387, 16393-16402).
port udp/3478 messaging
port udp/3479 messaging
port udp/3480 messaging
port udp/3481 messaging
port udp/3482 messaging
port udp/3483 messaging
port udp/3484 messaging
port udp/3485 messaging
port udp/3486 messaging
port udp/3487 messaging
port udp/3488 messaging
port udp/3489 messaging
port udp/3490 messaging
port udp/3491 messaging
port udp/3492 messaging
port udp/3493 messaging
port udp/3494 messaging
port udp/3495 messaging
port udp/3496 messaging
port udp/3497 messaging
port udp/16384 messaging
port udp/16385 messaging
port udp/16386 messaging
port udp/16387 messaging
port udp/16393 messaging
port udp/16394 messaging
port udp/16395 messaging
port udp/16396 messaging
port udp/16397 messaging
port udp/16398 messaging
port udp/16399 messaging
port udp/16400 messaging
port udp/16401 messaging
port udp/16402 messaging

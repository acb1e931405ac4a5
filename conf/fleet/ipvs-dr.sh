#!/bin/sh
# IPVS in front of two mptcp-frontd nodes by direct routing (the same
# idea as balancer-dsr.nft; conf/fleet/README.md).  Run on the balancer,
# as root.  The source-hash scheduler ("sh" with both the address and the
# port, sh-port) hashes every subflow on its own, like any L4 balancer: an
# MPTCP client's second subflow to VIP may reach the other node.  Hence on
# each node: announce = the node's own address.
#
#   VIP=203.0.113.100 PORT=443 NODES="203.0.113.18 203.0.113.26" sh ipvs-dr.sh
#
# On each node: VIP on lo (ip addr add VIP/32 dev lo), and ARP for it
# kept quiet (sysctl net.ipv4.conf.all.arp_ignore=1
# net.ipv4.conf.all.arp_announce=2).
set -eu
: "${VIP:?}" "${PORT:?}" "${NODES:?}"
ipvsadm -A -t "$VIP:$PORT" -s sh -b sh-port
for node in $NODES; do
	ipvsadm -a -t "$VIP:$PORT" -r "$node:$PORT" -g
done
ipvsadm -L -n -t "$VIP:$PORT"

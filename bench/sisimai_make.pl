#!/usr/bin/perl
# Peer for bench/bench_bounces.py: Debian's Sisimai (libsisimai-perl, 4.25) over one Maildir.
# Prints the number of messages Sisimai decoded as bounces and the time its make() took.
use strict;
use warnings;
use Sisimai;
use Time::HiRes qw(time);

my $maildir = shift or die "usage: $0 MAILDIR\n";
my $t0 = time;
my $data = Sisimai->make($maildir, 'delivered' => 1) || [];
my $t1 = time;
printf "%d %.6f\n", scalar(@$data), $t1 - $t0;

# Known CPU split between named methods, measured inside the workload (thread CPU time).
# Usage: ruby wl_split.rb TRUTH.json SECONDS
require 'json'
require 'zlib'

def cpu = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID)

$cpu = Hash.new(0.0)
$labels = {}

def leaf_a
  $labels['leaf_a'] ||= caller_locations(0, 1)[0].label
  s = 0
  4000.times { |i| $labels['block'] ||= caller_locations(0, 1)[0].label; s += i * i }
  s
end

def leaf_b
  s = 0
  i = 0
  while i < 30000
    s += i
    i += 1
  end
  s
end

def subst(text) = text.gsub(/[aeiou]/) { |m| m.upcase }

def squeeze(data)
  z = Zlib::Deflate.new
  out = z.deflate(data, Zlib::FINISH)
  z.close
  out
end

TEXT = 'the quick brown fox jumps over the lazy dog ' * 40
DATA = Random.new(1).bytes(20000)

def timed(name)
  t = cpu
  yield
  $cpu[name] += cpu - t
end

def work(seconds)
  start = cpu
  order = %w[leaf_a leaf_b subst squeeze]
  rng = Random.new(7) # shuffled: no fixed phase against the 4 ms timer tick
  while cpu - start < seconds
    order.shuffle(random: rng).each do |name|
      case name
      when 'leaf_a' then timed(name) { leaf_a }
      when 'leaf_b' then timed(name) { leaf_b }
      when 'subst' then timed(name) { subst(TEXT) }
      else timed(name) { squeeze(DATA) }
      end
    end
  end
end

work(ARGV[1].to_f)
File.write(ARGV[0], JSON.dump({ 'cpu' => $cpu, 'labels' => $labels }))
puts 'done'

/// A compiled regular expression: a small instruction program run as a Thompson / Pike NFA
/// simulation over bytes. Matching time is linear in the input (input length × program size),
/// whatever the pattern, and the yes/no search allocates nothing for programs of usual size.
struct RegexProgram: Sendable {
    enum Operation: UInt8, Sendable {
        /// Consume one byte in `sets[a]`.
        case bytes
        /// Continue at `a` (preferred) and at `b`.
        case split
        case jump
        /// Record the position in capture slot `a`.
        case save
        /// Continue only if assertion `a` holds here.
        case assert
        case match
    }

    struct Instruction: Sendable {
        var operation: Operation
        var a: Int32 = 0
        var b: Int32 = 0
    }

    struct CompileError: Error {
        var message: String
    }

    static let maximumInstructions = 5000

    let instructions: [Instruction]
    let sets: [ByteSet]
    /// 2 slots per group plus 2 for the whole match.
    let slotCount: Int
    /// The program can only match at position 0 (starts with `^`), so the search never restarts.
    let anchoredAtStart: Bool

    init(_ node: RegexSyntax.Node, groups: Int) throws(CompileError) {
        var compiler = Compiler()
        compiler.emit(Instruction(operation: .save, a: 0))
        try compiler.compile(node)
        compiler.emit(Instruction(operation: .save, a: 1))
        compiler.emit(Instruction(operation: .match))
        instructions = compiler.instructions
        sets = compiler.sets
        slotCount = 2 * (groups + 1)
        anchoredAtStart = RegexProgram.startsAnchored(node)
    }

    private static func startsAnchored(_ node: RegexSyntax.Node) -> Bool {
        switch node {
        case .assertion(.start): return true
        case .concatenation(let items): return items.first.map(startsAnchored) ?? false
        case .group(let inner, _): return startsAnchored(inner)
        default: return false
        }
    }

    private struct Compiler {
        var instructions: [Instruction] = []
        var sets: [ByteSet] = []
        var setIndex: [ByteSet: Int32] = [:]

        mutating func emit(_ instruction: Instruction) {
            instructions.append(instruction)
        }

        var next: Int32 { Int32(instructions.count) }

        mutating func compile(_ node: RegexSyntax.Node) throws(CompileError) {
            guard instructions.count < RegexProgram.maximumInstructions else {
                throw CompileError(message: "the pattern is too large (over \(RegexProgram.maximumInstructions) steps once repetitions are expanded)")
            }
            switch node {
            case .empty:
                break
            case .bytes(let set):
                let index: Int32
                if let known = setIndex[set] {
                    index = known
                } else {
                    index = Int32(sets.count)
                    sets.append(set)
                    setIndex[set] = index
                }
                emit(Instruction(operation: .bytes, a: index))
            case .concatenation(let items):
                for item in items { try compile(item) }
            case .alternation(let branches):
                var jumps: [Int] = []
                for (position, branch) in branches.enumerated() {
                    if position < branches.count - 1 {
                        let split = instructions.count
                        emit(Instruction(operation: .split, a: next + 1))
                        try compile(branch)
                        jumps.append(instructions.count)
                        emit(Instruction(operation: .jump))
                        instructions[split].b = next
                    } else {
                        try compile(branch)
                    }
                }
                for jump in jumps { instructions[jump].a = next }
            case .group(let inner, let capture):
                if let capture { emit(Instruction(operation: .save, a: Int32(2 * capture))) }
                try compile(inner)
                if let capture { emit(Instruction(operation: .save, a: Int32(2 * capture + 1))) }
            case .assertion(let assertion):
                let kind: Int32
                switch assertion {
                case .start: kind = 0
                case .end: kind = 1
                case .wordBoundary: kind = 2
                case .notWordBoundary: kind = 3
                }
                emit(Instruction(operation: .assert, a: kind))
            case .repetition(let inner, let minimum, let maximum, let greedy):
                for _ in 0..<minimum { try compile(inner) }
                if let maximum {
                    // Optional copies, each skipping to the end: x{2,4} = x x (x (x)?)?
                    var skips: [Int] = []
                    for _ in minimum..<maximum {
                        skips.append(instructions.count)
                        emit(Instruction(operation: .split))
                        let body = next
                        try compile(inner)
                        instructions[skips.last!].a = greedy ? body : 0
                        instructions[skips.last!].b = greedy ? 0 : body
                    }
                    for skip in skips {
                        if greedy { instructions[skip].b = next } else { instructions[skip].a = next }
                    }
                } else {
                    let loop = instructions.count
                    emit(Instruction(operation: .split))
                    let body = next
                    try compile(inner)
                    emit(Instruction(operation: .jump, a: Int32(loop)))
                    instructions[loop].a = greedy ? body : next
                    instructions[loop].b = greedy ? next : body
                }
            }
        }
    }

    // MARK: Yes/no search

    /// Whether the pattern matches anywhere in `input`.
    func search(_ input: UnsafeRawBufferPointer) -> Bool {
        let count = instructions.count
        // Two sparse sets (dense + sparse arrays each) and a work stack: on the stack for usual
        // program sizes.
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: 6 * count + 4) { memory in
            memory.initialize(repeating: -1)
            return instructions.withUnsafeBufferPointer { program in
                sets.withUnsafeBufferPointer { sets in
                    var current = SparseSet(memory: memory.baseAddress!, capacity: count)
                    var next = SparseSet(memory: memory.baseAddress! + 2 * count, capacity: count)
                    let stack = memory.baseAddress! + 4 * count
                    var position = 0
                    while true {
                        if position == 0 || !anchoredAtStart {
                            if closure(0, into: &current, at: position, input, program, stack) { return true }
                        }
                        if position == input.count { return false }
                        if current.count == 0 && anchoredAtStart { return false }
                        let byte = input[position]
                        next.clear()
                        for index in 0..<current.count {
                            let pc = Int(current.dense[index])
                            let instruction = program[pc]
                            if instruction.operation == .bytes, sets[Int(instruction.a)].contains(byte) {
                                if closure(Int32(pc + 1), into: &next, at: position + 1, input, program, stack) {
                                    return true
                                }
                            }
                        }
                        swap(&current, &next)
                        position += 1
                    }
                }
            }
        }
    }

    /// Adds `start` and everything reachable from it without consuming input; `true` when a
    /// match instruction is reached.
    @inline(__always)
    private func closure(
        _ start: Int32, into set: inout SparseSet, at position: Int, _ input: UnsafeRawBufferPointer,
        _ program: UnsafeBufferPointer<Instruction>, _ stack: UnsafeMutablePointer<Int32>
    ) -> Bool {
        var depth = 0
        stack[0] = start
        depth = 1
        while depth > 0 {
            depth -= 1
            let pc = stack[depth]
            guard set.insert(pc) else { continue }
            let instruction = program[Int(pc)]
            switch instruction.operation {
            case .bytes:
                break
            case .match:
                return true
            case .jump:
                stack[depth] = instruction.a
                depth += 1
            case .split:
                stack[depth] = instruction.b
                stack[depth + 1] = instruction.a
                depth += 2
            case .save:
                stack[depth] = pc + 1
                depth += 1
            case .assert:
                if RegexProgram.holds(instruction.a, at: position, input) {
                    stack[depth] = pc + 1
                    depth += 1
                }
            }
        }
        return false
    }

    @inline(__always)
    static func holds(_ assertion: Int32, at position: Int, _ input: UnsafeRawBufferPointer) -> Bool {
        switch assertion {
        case 0: return position == 0
        case 1: return position == input.count
        default:
            let before = position > 0 && ByteSet.word.contains(input[position - 1])
            let after = position < input.count && ByteSet.word.contains(input[position])
            return (before != after) == (assertion == 2)
        }
    }

    // MARK: Captures

    /// The capture slots (byte offsets, -1 when unset) of the leftmost-first match, or `nil`.
    /// Perl semantics: alternatives and greedy/lazy quantifiers are preferred in order.
    func captures(_ input: UnsafeRawBufferPointer) -> [Int]? {
        struct Thread {
            var pc: Int32
            var slots: [Int]
        }
        var current: [Thread] = []
        var matched: [Int]? = nil
        var position = 0
        func add(_ thread: Thread, to list: inout [Thread], visited: inout Set<Int32>, at position: Int) {
            var stack = [thread]
            while let item = stack.popLast() {
                guard visited.insert(item.pc).inserted else { continue }
                let instruction = instructions[Int(item.pc)]
                switch instruction.operation {
                case .bytes, .match:
                    list.append(item)
                case .jump:
                    stack.append(Thread(pc: instruction.a, slots: item.slots))
                case .split:
                    stack.append(Thread(pc: instruction.b, slots: item.slots))
                    stack.append(Thread(pc: instruction.a, slots: item.slots))
                case .save:
                    var slots = item.slots
                    slots[Int(instruction.a)] = position
                    stack.append(Thread(pc: item.pc + 1, slots: slots))
                case .assert:
                    if RegexProgram.holds(instruction.a, at: position, input) {
                        stack.append(Thread(pc: item.pc + 1, slots: item.slots))
                    }
                }
            }
        }
        var visited = Set<Int32>()
        while true {
            if matched == nil && (position == 0 || !anchoredAtStart) {
                add(Thread(pc: 0, slots: Array(repeating: -1, count: slotCount)), to: &current, visited: &visited, at: position)
            }
            var next: [Thread] = []
            var nextVisited = Set<Int32>()
            for thread in current {
                let instruction = instructions[Int(thread.pc)]
                if instruction.operation == .match {
                    matched = thread.slots
                    break
                }
                if position < input.count, sets[Int(instruction.a)].contains(input[position]) {
                    add(Thread(pc: thread.pc + 1, slots: thread.slots), to: &next, visited: &nextVisited, at: position + 1)
                }
            }
            if position == input.count || (next.isEmpty && (matched != nil || anchoredAtStart)) {
                return matched
            }
            current = next
            visited = nextVisited
            position += 1
        }
    }
}

/// A set of program counters with O(1) insert, membership and clear, over caller memory.
private struct SparseSet {
    let dense: UnsafeMutablePointer<Int32>
    let sparse: UnsafeMutablePointer<Int32>
    var count = 0

    init(memory: UnsafeMutablePointer<Int32>, capacity: Int) {
        dense = memory
        sparse = memory + capacity
    }

    mutating func clear() { count = 0 }

    /// Inserts `value`; `false` if it was already there.
    @inline(__always)
    mutating func insert(_ value: Int32) -> Bool {
        let slot = Int(sparse[Int(value)])
        if slot >= 0, slot < count, dense[slot] == value { return false }
        sparse[Int(value)] = Int32(count)
        dense[count] = value
        count += 1
        return true
    }
}

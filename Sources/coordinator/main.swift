import Processing

await CoordinatorCommand.main()

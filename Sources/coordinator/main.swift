await CoordinatorCommand.main()
